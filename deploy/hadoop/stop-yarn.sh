#!/usr/bin/env bash
# Stops the YARN that start-yarn.sh started in DIR: the NodeManager, then the
# ResourceManager, by the process ids recorded there (TERM, then KILL after 10 s), then any
# container process group the NodeManager left behind (by the pid files it keeps under
# DIR/yarn/local/nmPrivate). Keeps DIR (stop-hdfs.sh DIR deletes it). Safe to call twice or
# on a half-started DIR.
# Usage: deploy/hadoop/stop-yarn.sh DIR
set -uo pipefail
dir="${1:?usage: stop-yarn.sh DIR}"
[[ -d "$dir" ]] || exit 0
source "$(dirname "$0")/env.sh"
stop_recorded "$dir" nodemanager resourcemanager
# Containers run in their own sessions (setsid): their pid is their process group.
if [[ -d "$dir/yarn/local/nmPrivate" ]]; then
  while IFS= read -r f; do
    pid="$(cat "$f" 2> /dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -KILL -- "-$pid" 2> /dev/null
  done < <(find "$dir/yarn/local/nmPrivate" -name '*.pid' 2> /dev/null)
fi
rm -f "$dir/yarn.env"
exit 0
