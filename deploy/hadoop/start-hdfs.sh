#!/usr/bin/env bash
# Starts a single-node HDFS for tests and local use: one NameNode and one DataNode (two
# JVMs from the Maven jars, see pom.xml), WebHDFS on, bound to 127.0.0.1 on free ports,
# all state in one folder. Waits until a file can be written through WebHDFS.
#
# Usage: deploy/hadoop/start-hdfs.sh [DIR]     (DIR: default a new mktemp -d folder)
# A DIR left by `stop-hdfs.sh --keep DIR` is restarted with its data and ports.
# Prints, on stdout, shell assignments (eval-able), e.g.
#   HDFS_DIR=/tmp/medhub-hdfs.XXXX
#   WEBHDFS_URL=http://127.0.0.1:40123        (the NameNode's HTTP address)
#   HDFS_URI=hdfs://127.0.0.1:40124           (fs.defaultFS for Hadoop clients)
#   HADOOP_CONF_DIR=/tmp/medhub-hdfs.XXXX/conf
# and writes the same to DIR/hdfs.env. Stop with deploy/hadoop/stop-hdfs.sh DIR.
# Logs: DIR/logs/{namenode,datanode}.log. Exit status non-zero (and nothing left running)
# if it cannot start within $MEDHUB_HDFS_START_TIMEOUT seconds (default 180).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
"$here/fetch-deps.sh" > /dev/null

dir="${1:-$(mktemp -d /tmp/medhub-hdfs.XXXXXX)}"
mkdir -p "$dir"/{conf,logs,nn,dn,tmp}
dir="$(cd "$dir" && pwd)"

restart=0
if [[ -f "$dir/hdfs.env" && -d "$dir/nn/current" ]]; then
  # Restart of a stopped (stop-hdfs.sh --keep) cluster: same ports, same data, no format.
  restart=1
  nn_http="$(sed -n 's/^WEBHDFS_URL=http:\/\/127.0.0.1://p' "$dir/hdfs.env")"
  nn_rpc="$(sed -n 's/^HDFS_URI=hdfs:\/\/127.0.0.1://p' "$dir/hdfs.env")"
else
  read -r nn_rpc nn_http dn_xfer dn_http dn_ipc < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

  prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }
  {
    echo '<?xml version="1.0"?><configuration>'
    prop fs.defaultFS "hdfs://127.0.0.1:$nn_rpc"
    prop hadoop.tmp.dir "$dir/tmp"
    echo '</configuration>'
  } > "$dir/conf/core-site.xml"
  {
    echo '<?xml version="1.0"?><configuration>'
    prop dfs.replication 1
    prop dfs.namenode.name.dir "$dir/nn"
    prop dfs.datanode.data.dir "$dir/dn"
    prop dfs.namenode.rpc-address "127.0.0.1:$nn_rpc"
    prop dfs.namenode.http-address "127.0.0.1:$nn_http"
    prop dfs.datanode.address "127.0.0.1:$dn_xfer"
    prop dfs.datanode.http.address "127.0.0.1:$dn_http"
    prop dfs.datanode.ipc.address "127.0.0.1:$dn_ipc"
    prop dfs.datanode.hostname 127.0.0.1
    prop dfs.webhdfs.enabled true
    prop dfs.permissions.enabled false
    prop dfs.namenode.safemode.extension 0
    prop dfs.namenode.fs-limits.min-block-size 1048576
    prop dfs.datanode.du.reserved 0
    prop dfs.namenode.resource.du.reserved 0
    # A WebHDFS write closes its file from the DataNode; without these the close waits 400 ms
    # for the block report to reach the NameNode (one-node test cluster: no risk in allowing it).
    prop dfs.namenode.file.close.num-committed-allowed 1
    prop dfs.client.block.write.locateFollowingBlock.initial.delay.ms 20
    echo '</configuration>'
  } > "$dir/conf/hdfs-site.xml"
  printf '%s\n' 'log4j.rootLogger=INFO,F' 'log4j.appender.F=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.F.layout=org.apache.log4j.PatternLayout' \
    'log4j.appender.F.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n' \
    > "$dir/conf/log4j.properties"
fi

cp_="$dir/conf:$MEDHUB_HADOOP_LIB/*"
sys="-Dhadoop.log.dir=$dir/logs -Dhadoop.home.dir=$dir -Djava.io.tmpdir=$dir/tmp"
# shellcheck disable=SC2086
if ((!restart)); then
  java $HADOOP_JPMS_OPTS $sys -Xmx256m -cp "$cp_" org.apache.hadoop.hdfs.server.namenode.NameNode \
    -format -force -nonInteractive > "$dir/logs/format.log" 2>&1 ||
    { echo "start-hdfs.sh: NameNode format failed, see $dir/logs/format.log" >&2; exit 1; }
fi

start_recorded "$dir" 384m namenode org.apache.hadoop.hdfs.server.namenode.NameNode
start_recorded "$dir" 384m datanode org.apache.hadoop.hdfs.server.datanode.DataNode

webhdfs="http://127.0.0.1:$nn_http"
user="${USER:-$(id -un)}"
probe="$webhdfs/webhdfs/v1/.medhub-start-probe?user.name=$user"
deadline=$((SECONDS + ${MEDHUB_HDFS_START_TIMEOUT:-180}))
ready=0
while ((SECONDS < deadline)); do
  for p in namenode datanode; do
    if ! kill -0 "$(cat "$dir/$p.pid")" 2> /dev/null; then
      echo "start-hdfs.sh: the $p exited; see $dir/logs/$p.log" >&2
      tail -n 20 "$dir/logs/$p.log" >&2 || true
      "$here/stop-hdfs.sh" --keep "$dir" > /dev/null 2>&1 || true
      exit 1
    fi
  done
  # Ready when a file can be written: NameNode out of safe mode and the DataNode registered.
  loc=$(curl -s -m 5 -X PUT "$probe&op=CREATE&overwrite=true&noredirect=true" 2> /dev/null |
    python3 -c 'import sys,json; print(json.load(sys.stdin).get("Location",""))' 2> /dev/null || true)
  if [[ -n "$loc" ]] &&
    [[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
      --data-binary ok "$loc" 2> /dev/null)" == "201" ]]; then
    curl -s -m 5 -X DELETE "$probe&op=DELETE" > /dev/null 2>&1 || true
    ready=1
    break
  fi
  sleep 0.5
done
if ((!ready)); then
  echo "start-hdfs.sh: HDFS did not become writable in time; logs in $dir/logs" >&2
  "$here/stop-hdfs.sh" --keep "$dir" > /dev/null 2>&1 || true
  exit 1
fi

cat > "$dir/hdfs.env" <<ENV
HDFS_DIR=$dir
WEBHDFS_URL=$webhdfs
HDFS_URI=hdfs://127.0.0.1:$nn_rpc
HADOOP_CONF_DIR=$dir/conf
ENV
cat "$dir/hdfs.env"
