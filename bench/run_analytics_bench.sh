#!/usr/bin/env bash
# The design's experiment (docs/benchmarks.md, "Analytics"): the stroke-risk-factors job on
# populations made by `medhub gen`, run by (i) medhub's in-process engine, (ii) Hadoop
# Streaming on a single-node HDFS with the LocalJobRunner (deploy/hadoop), (iii) PostgreSQL 15
# with the lines loaded as JSONB and equivalent SQL, (iv) DuckDB reading the same NDJSON
# files with equivalent SQL. Every engine's CSV must equal the in-process engine's, or the
# script fails. Prints one line per (size, engine) and writes a TSV.
#
# Usage: bench/run_analytics_bench.sh            (root: installs packages, runs initdb)
# Environment:
#   SIZES          patients per run (default "2000 10000")
#   HADOOP_SIZES   sizes also run on Hadoop Streaming (default "2000 10000", "" for none;
#                  LocalJobRunner over file:// — the same files, no HDFS upload)
#   PG_SIZES       sizes also run on PostgreSQL (default: every size; "" for none; the
#                  JSONB copy of a large lake needs as much disk again)
#   THREADS        threads for medhub and DuckDB (default 2)
#   OUT            TSV of results (default build/analytics_bench.tsv)
#   PNG            plot of the results (default docs/analytics_bench.png)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
SIZES="${SIZES:-2000 10000}"
HADOOP_SIZES="${HADOOP_SIZES-2000 10000}"
PG_SIZES="${PG_SIZES-$SIZES}"
THREADS="${THREADS:-2}"
OUT="${OUT:-$root/build/analytics_bench.tsv}"
medhub="$root/build/ci/src/cli/medhub"
venv="$root/build/bench-venv"
pg_bin=/usr/lib/postgresql/15/bin
log() { echo "== $*" >&2; }

[[ -x "$medhub" ]] || { cmake --preset ci > /dev/null && cmake --build --preset ci --target medhub; }
if [[ ! -x "$venv/bin/duckdb" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb-cli==1.5.6 matplotlib==3.9.2
fi
duckdb="$venv/bin/duckdb"

tmp="$(mktemp -d /tmp/medhub-analytics-bench.XXXXXX)"
pg_started=0
cleanup() {
  ((pg_started)) && runuser -u postgres -- "$pg_bin/pg_ctl" stop -D "$tmp/pg" -m fast -w > /dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
# Runs a command; sets `wall` and `cpu` (user + system seconds of the command and its
# children: the machine may be shared, and CPU time is what the engine itself spent) and
# `loadavg` (the 1-minute load average when it ended: how busy the machine was).
TIMEFORMAT='%R %U %S'
timed() {
  local t
  t=$( { time "$@" 2> "$tmp/cmd.err" ; } 2>&1 ) || { cat "$tmp/cmd.err" >&2; return 1; }
  read -r wall u s <<< "$t"
  cpu=$(python3 -c "print(f'{$u + $s:.3f}')")
  loadavg=$(cut -d' ' -f1 /proc/loadavg)
}

start_postgres() {
  mkdir -p "$tmp/socket" && chown -R postgres:postgres "$tmp"
  runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/pg" -U postgres -A trust -E UTF8 --no-locale > "$tmp/initdb.log" 2>&1
  pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  runuser -u postgres -- "$pg_bin/pg_ctl" start -D "$tmp/pg" -w -t 60 -l "$tmp/pg.log" \
    -o "-p $pg_port -k $tmp/socket -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_parallel_workers_per_gather=$THREADS -c work_mem=256MB" > /dev/null
  pg_started=1
  psql=(psql -X -q -v ON_ERROR_STOP=1 "host=$tmp/socket port=$pg_port user=postgres dbname=postgres")
}

# Total size of the *.ndjson files under the given folders (no argument list limit; %.0f,
# as mawk's %d stops at 2^31).
ndjson_bytes() {
  find "$@" -name '*.ndjson' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

check_same() {  # engine file
  if ! cmp -s "$tmp/local.csv" "$2"; then
    echo "$1 output differs from the in-process engine:" >&2
    diff "$tmp/local.csv" "$2" | head >&2
    exit 1
  fi
}

echo -e "patients\tbytes\tengine\tseconds\tload_seconds\tcpu_seconds\tloadavg\tmedhub_bytes" > "$OUT"
start_postgres
for n in $SIZES; do
  lake="$tmp/lake-$n"
  log "gen $n patients"
  "$medhub" gen --patients "$n" --seed 1 --out "$lake" \
    --types Patient,Condition,Observation,MedicationRequest,Device > /dev/null
  bytes=$(ndjson_bytes "$lake"/{Patient,Condition,Observation})
  # What medhub reads: the job's input types (MedicationRequest too).
  medhub_bytes=$(ndjson_bytes "$lake"/{Patient,Condition,Observation,MedicationRequest})
  sync

  timed "$medhub" analytics run stroke-risk-factors --lake "$lake" --threads "$THREADS" --stats \
    --out "$tmp/local.csv"
  log "in-process: $wall s wall, $cpu s CPU, load $loadavg; $(tail -1 "$tmp/cmd.err")"
  rate="$medhub_bytes / 1e6 / $wall:.0f} MB/s wall, {$medhub_bytes / 1e6 / $cpu:.0f}"
  log "in-process scan rate: $(python3 -c "print(f'{$rate MB/s per CPU-second')")"
  echo -e "$n\t$bytes\tin-process\t$wall\t0\t$cpu\t$loadavg\t$medhub_bytes" >> "$OUT"

  { echo "SET threads=$THREADS;"
    sed "s|\${LAKE}|$lake|g" bench/analytics/stroke_risk_factors.duckdb.sql; } > "$tmp/q.sql"
  timed sh -c "'$duckdb' < '$tmp/q.sql' > '$tmp/duckdb.csv'"
  check_same DuckDB "$tmp/duckdb.csv"
  log "DuckDB: $wall s wall, $cpu s CPU, load $loadavg"
  echo -e "$n\t$bytes\tduckdb\t$wall\t0\t$cpu\t$loadavg\t$medhub_bytes" >> "$OUT"

  if [[ " $PG_SIZES " == *" $n "* ]]; then
    t0=$(now)
    "${psql[@]}" -c "DROP TABLE IF EXISTS patient, condition, observation;
      CREATE UNLOGGED TABLE patient(j jsonb); CREATE UNLOGGED TABLE condition(j jsonb);
      CREATE UNLOGGED TABLE observation(j jsonb);"
    for table_type in patient:Patient condition:Condition observation:Observation; do
      find "$lake/${table_type#*:}" -name '*.ndjson' -exec cat {} + | "${psql[@]}" -c \
        "COPY ${table_type%%:*}(j) FROM STDIN WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')"
    done
    "${psql[@]}" -c "ANALYZE patient; ANALYZE condition; ANALYZE observation;"
    load=$(elapsed "$t0" "$(now)")
    t0=$(now)
    "${psql[@]}" -f bench/analytics/stroke_risk_factors.pg.sql > "$tmp/pg.csv"
    t=$(elapsed "$t0" "$(now)")
    check_same PostgreSQL "$tmp/pg.csv"
    log "PostgreSQL: query $t s (load $load s)"
    echo -e "$n\t$bytes\tpostgresql\t$t\t$load\t\t$(cut -d' ' -f1 /proc/loadavg)\t$medhub_bytes" >> "$OUT"
    "${psql[@]}" -c "DROP TABLE patient, condition, observation;"
  fi

  if [[ " $HADOOP_SIZES " == *" $n "* ]]; then
    # Hadoop on the local file system (file://, no HDFS): the same files, so the figure is
    # Hadoop's own cost (JVMs, job setup, shuffle, sort, Streaming pipes), not an upload.
    url="file://$lake"
    load=0
    hadoop_lib="$(deploy/hadoop/fetch-deps.sh)"
    timed "$medhub" analytics run stroke-risk-factors --engine hadoop --lake "$url" \
      --hadoop-lib "$hadoop_lib" --out "$tmp/hadoop.csv"
    check_same Hadoop "$tmp/hadoop.csv"
    log "Hadoop Streaming (LocalJobRunner, file://): $wall s wall, $cpu s CPU, load $loadavg"
    echo -e "$n\t$bytes\thadoop-streaming\t$wall\t$load\t$cpu\t$loadavg\t$medhub_bytes" >> "$OUT"
  fi
  rm -rf "$lake"
done
log "results: $OUT"
cat "$OUT"
"$venv/bin/python" bench/analytics/plot.py "$OUT" "${PNG:-$root/docs/analytics_bench.png}"
