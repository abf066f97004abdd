#!/usr/bin/env bash
# Stops the HDFS that start-hdfs.sh started in DIR (by the process ids it recorded there)
# and deletes DIR, unless --keep is given. Safe to call twice or on a half-started DIR.
# Usage: deploy/hadoop/stop-hdfs.sh [--keep] DIR
set -uo pipefail
keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; shift; fi
dir="${1:?usage: stop-hdfs.sh [--keep] DIR}"
[[ -d "$dir" ]] || exit 0
# A YARN started beside this HDFS (start-yarn.sh DIR) goes first.
if [[ -f "$dir/resourcemanager.pid" || -f "$dir/nodemanager.pid" ]]; then
  "$(dirname "$0")/stop-yarn.sh" "$dir"
fi
for p in datanode namenode; do
  f="$dir/$p.pid"
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$f"
done
if ((!keep)); then rm -rf "$dir"; fi
exit 0
