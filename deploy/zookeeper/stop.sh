#!/usr/bin/env bash
# Stops the ZooKeeper that deploy/zookeeper/start.sh DIR started (its pid is in DIR/pid);
# keeps DIR's data so that start.sh DIR PORT can restart it. Waits until it has exited.
set -euo pipefail
dir=${1:?usage: stop.sh DIR}
[[ -f "$dir/pid" ]] || exit 0
pid=$(cat "$dir/pid")
kill "$pid" 2>/dev/null || { rm -f "$dir/pid"; exit 0; }
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; exit 0; }
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
rm -f "$dir/pid"
