#!/usr/bin/env bash
# Hadoop's fixed overhead on YARN vs the LocalJobRunner: one job run by the in-process
# engine, by Hadoop Streaming on the LocalJobRunner and by Hadoop Streaming on a single-node
# YARN (start-yarn.sh), over the same `medhub gen` lake copied into a single-node HDFS
# (start-hdfs.sh), at each population size. Prints one line per run (wall seconds, the load
# average before the run) and, for YARN, each stage's application time from the
# ResourceManager; fails unless every engine's CSV is identical to the in-process one.
#
# Usage: deploy/hadoop/bench-yarn-overhead.sh MEDHUB_BINARY [JOB]
#   env SIZES (default "30 2000"), RUNS (default 2), SEED (default 1), WORK (default mktemp)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
medhub="$(readlink -f "${1:?usage: bench-yarn-overhead.sh MEDHUB_BINARY [JOB]}")"
job="${2:-stroke-risk-factors}"
sizes="${SIZES:-30 2000}"
runs="${RUNS:-2}"
work="${WORK:-$(mktemp -d /tmp/medhub-yarn-bench.XXXXXX)}"
test_key=6d656468756220746573742d6f6e6c79206d6173746572206b65792021212121
export MEDHUB_MASTER_KEY="${MEDHUB_MASTER_KEY:-$test_key}"
cluster="$work/cluster"
trap '"$here/stop-hdfs.sh" "$cluster" > /dev/null 2>&1 || true' EXIT

eval "$("$here/start-hdfs.sh" "$cluster")"
eval "$("$here/start-yarn.sh" "$cluster")"
lake_fs="webhdfs://${WEBHDFS_URL#http://}"
fsshell() {
  # shellcheck disable=SC2086
  java $HADOOP_JPMS_OPTS -Xmx512m -cp "$HADOOP_CONF_DIR:$MEDHUB_HADOOP_LIB/*" \
    org.apache.hadoop.fs.FsShell "$@" 2> "$work/fsshell.log"
}
load() { cut -d' ' -f1 /proc/loadavg; }
echo "commit $(git -C "$here" rev-parse --short HEAD); $(nproc) cores; $(uptime)"
echo "patients engine run wall_s load_before stages"
for n in $sizes; do
  pop="$work/pop-$n"
  [[ -d "$pop" ]] || "$medhub" gen --patients "$n" --seed "${SEED:-1}" --out "$pop" \
    --types Patient,Condition,Observation,MedicationRequest,Device > /dev/null
  fsshell -put "$pop" "/lake-$n" > /dev/null
  url="$lake_fs/lake-$n"
  "$medhub" analytics run "$job" --lake "$pop" --out "$work/ref-$n.csv"
  for r in $(seq "$runs"); do
    for engine in in-process local yarn; do
      case $engine in
        in-process) args=(--lake "$url") ;;
        local) args=(--lake "$url" --engine hadoop --hadoop-lib "$MEDHUB_HADOOP_LIB") ;;
        yarn) args=(--lake "$url" --engine hadoop --hadoop-mode yarn
          --hadoop-lib "$MEDHUB_HADOOP_LIB" --hadoop-conf "$HADOOP_CONF_DIR") ;;
      esac
      before="$(load)"
      start=$(date +%s.%N)
      "$medhub" analytics run "$job" "${args[@]}" --out "$work/out.csv" 2> "$work/run.err" ||
        { cat "$work/run.err" >&2; exit 1; }
      wall=$(echo "$(date +%s.%N) - $start" | bc)
      cmp -s "$work/out.csv" "$work/ref-$n.csv" || { echo "$engine: output differs" >&2; exit 1; }
      stages=""
      if [[ $engine == yarn ]]; then
        stages=$(curl -s "$YARN_WEB/ws/v1/cluster/apps" | python3 -c '
import sys, json
since, prefix = float(sys.argv[1]) * 1000, "medhub-" + sys.argv[2] + "-stage-"
apps = [a for a in json.load(sys.stdin)["apps"]["app"]
        if a["name"].startswith(prefix) and a["startedTime"] >= since]
apps.sort(key=lambda a: a["startedTime"])
print(" ".join("stage%s=%.1fs" % (a["name"][len(prefix):], a["elapsedTime"] / 1000) for a in apps))
' "$start" "$job")
      fi
      printf '%s %s %s %.2f %s %s\n' "$n" "$engine" "$r" "$wall" "$before" "$stages"
    done
  done
done
echo "after: $(uptime)"
