#!/usr/bin/env bash
# Runs medhub's store benchmark against a throwaway PostgreSQL 15 cluster, then the
# microbenchmarks (docs/benchmarks.md). Needs root (it installs packages and runs initdb
# as the postgres user). Takes a few minutes on 2 cores.
#
# Usage: bench/run_store_bench.sh [store_bench options, e.g. --copies 4]
# Environment:
#   BUILD_DIR   build here with `cmake -S . -B $BUILD_DIR` instead of the ci preset (use it
#               when build/ci is busy)
#   JSON_OUT    where store_bench writes its JSON (default: $BUILD_DIR/store_bench.json)
#   MICRO_JSON  where micro_bench writes its JSON (default: $BUILD_DIR/micro_bench.json)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { echo "== $*" >&2; }

install_packages() {
  scripts/install-deps.sh --bench
  local missing=()
  for p in libpq-dev postgresql-15; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

build() {
  if [[ -n "${BUILD_DIR:-}" ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" --target store_bench micro_bench
  else
    BUILD_DIR="$root/build/ci"
    cmake --preset ci >/dev/null
    cmake --build --preset ci --target store_bench micro_bench
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

pg_bin=/usr/lib/postgresql/15/bin
tmp=""
pg_started=0

cleanup() {
  if ((pg_started)); then
    runuser -u postgres -- "$pg_bin/pg_ctl" stop -D "$tmp/data" -m fast -w >/dev/null 2>&1 || true
  fi
  [[ -n "$tmp" ]] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh cluster with default durability (fsync, synchronous_commit and full_page_writes
# on) and shared_buffers=256MB, on 127.0.0.1 and a unix socket in the temporary folder.
start_postgres() {
  tmp="$(mktemp -d /tmp/medhub-bench.XXXXXX)"
  mkdir -p "$tmp/socket"
  chown -R postgres:postgres "$tmp"
  runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 \
    --no-locale >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; return 1; }
  pg_port="$(free_port)"
  runuser -u postgres -- "$pg_bin/pg_ctl" start -D "$tmp/data" -w -t 60 -l "$tmp/postgres.log" \
    -o "-p $pg_port -k $tmp/socket -c listen_addresses=127.0.0.1 -c shared_buffers=256MB \
        -c fsync=on -c synchronous_commit=on -c full_page_writes=on" >/dev/null ||
    { cat "$tmp/postgres.log" >&2; return 1; }
  pg_started=1
  pg_conninfo="host=$tmp/socket port=$pg_port user=postgres dbname=postgres"
  log "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $pg_port," \
    "data $tmp/data"
}

install_packages
build
start_postgres

json_out="${JSON_OUT:-$BUILD_DIR/store_bench.json}"
micro_json="${MICRO_JSON:-$BUILD_DIR/micro_bench.json}"
log "store_bench (medhub work folder and PostgreSQL data on the same file system: $tmp)"
"$BUILD_DIR/bench/store_bench" --pg "$pg_conninfo" --work "$tmp" --json "$json_out" "$@"
log "store_bench JSON: $json_out"

log "micro_bench"
"$BUILD_DIR/bench/micro_bench" --benchmark_min_time=0.2 \
  --benchmark_out="$micro_json" --benchmark_out_format=json
log "micro_bench JSON: $micro_json"
