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
# Debian's zookeeper package and the libraries it depends on; the optional ones are used
# when present (netty for its transport, slf4j-simple for readable warnings).
cp_entries=()
for jar in zookeeper zookeeper-jute slf4j-api; do
  [[ -f "/usr/share/java/$jar.jar" ]] ||
    { echo "start.sh: missing /usr/share/java/$jar.jar (apt-get install zookeeper)" >&2; exit 1; }
  cp_entries+=("/usr/share/java/$jar.jar")
done
for jar in slf4j-simple netty-handler netty-common netty-buffer netty-transport netty-codec \
    netty-resolver netty-transport-native-epoll netty-transport-native-unix-common \
    commons-cli commons-io metrics-core snappy-java; do
  [[ -f "/usr/share/java/$jar.jar" ]] && cp_entries+=("/usr/share/java/$jar.jar")
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
