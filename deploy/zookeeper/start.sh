#!/usr/bin/env bash
# Starts a standalone ZooKeeper (Debian package `zookeeper`) on 127.0.0.1 for tests,
# benchmarks and users; prints HOST:PORT on stdout once it answers.
#
#   deploy/zookeeper/start.sh DIR [PORT]
#
# DIR holds its data, configuration, log and pid file (created if missing; reuse the same
# DIR and PORT to restart a stopped server with its data). PORT defaults to a free port.
# Stop it with deploy/zookeeper/stop.sh DIR.
set -euo pipefail
dir=${1:?usage: start.sh DIR [PORT]}
port=${2:-}
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
if [[ -z "$port" ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
cp_entries=(/usr/share/java/zookeeper.jar /usr/share/java/zookeeper-jute.jar
  /usr/share/java/slf4j-api.jar /usr/share/java/slf4j-simple.jar
  /usr/share/java/netty-handler.jar /usr/share/java/netty-common.jar
  /usr/share/java/netty-buffer.jar /usr/share/java/netty-transport.jar
  /usr/share/java/netty-codec.jar /usr/share/java/netty-resolver.jar
  /usr/share/java/netty-transport-native-epoll.jar
  /usr/share/java/netty-transport-native-unix-common.jar
  /usr/share/java/commons-cli.jar /usr/share/java/commons-io.jar
  /usr/share/java/metrics-core.jar /usr/share/java/snappy-java.jar)
for jar in "${cp_entries[@]}"; do
  [[ -f "$jar" ]] || { echo "start.sh: missing $jar (apt-get install zookeeper)" >&2; exit 1; }
done
classpath=$(IFS=:; echo "${cp_entries[*]}")
cat > "$dir/zoo.cfg" <<CFG
tickTime=500
initLimit=10
syncLimit=5
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat
jute.maxbuffer=4194304
CFG
echo "$port" > "$dir/port"
java -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Djute.maxbuffer=4194304 \
  -Dzookeeper.admin.enableServer=false -cp "$classpath" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
  >"$dir/zookeeper.log" 2>&1 &
echo $! > "$dir/pid"
for _ in $(seq 1 200); do
  if reply=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && printf ruok >&3 && timeout 1 cat <&3; } \
      2>/dev/null) && [[ "$reply" == imok ]]; then
    echo "127.0.0.1:$port"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "start.sh: ZooKeeper exited; see $dir/zookeeper.log" >&2
    tail -20 "$dir/zookeeper.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "start.sh: ZooKeeper did not answer on 127.0.0.1:$port" >&2
kill "$(cat "$dir/pid")" 2>/dev/null || true
exit 1
