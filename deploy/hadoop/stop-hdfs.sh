#!/usr/bin/env bash
# Stops the HDFS that start-hdfs.sh started in DIR (by the process ids it recorded there)
# and deletes DIR, unless --keep is given. Safe to call twice or on a half-started DIR.
# Usage: deploy/hadoop/stop-hdfs.sh [--keep] DIR
set -uo pipefail
keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; shift; fi
dir="${1:?usage: stop-hdfs.sh [--keep] DIR}"
[[ -d "$dir" ]] || exit 0
source "$(dirname "$0")/env.sh"
# A YARN started beside this HDFS (start-yarn.sh DIR) goes first.
if [[ -f "$dir/resourcemanager.pid" || -f "$dir/nodemanager.pid" ]]; then
  "$(dirname "$0")/stop-yarn.sh" "$dir"
fi
stop_recorded "$dir" datanode namenode
if ((!keep)); then rm -rf "$dir"; fi
exit 0
