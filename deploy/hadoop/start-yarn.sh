#!/usr/bin/env bash
# Starts a single-node YARN for tests and local use: one ResourceManager and one NodeManager
# (two JVMs from the Maven jars, see pom.xml) on 127.0.0.1, free ports, with the MapReduce
# shuffle service, sized for a small machine (2 cores): the NodeManager offers
# $MEDHUB_YARN_NM_MB MB (default 2048) and 4 vcores; MapReduce containers take 512 MB (AM and
# tasks, heap 300-384 MB) so an application master and three tasks run at once.
#
# Usage: deploy/hadoop/start-yarn.sh DIR
#   DIR: the folder of a running start-hdfs.sh cluster (YARN then uses its HDFS as the
#   default file system: staging, job files), or a new folder (default file system file:///,
#   no HDFS: enough on one machine).
# Writes yarn-site.xml, mapred-site.xml and capacity-scheduler.xml into DIR/conf and prints,
# on stdout, shell assignments (eval-able; also in DIR/yarn.env):
#   YARN_DIR=DIR
#   YARN_RM=127.0.0.1:PORT          (yarn.resourcemanager.address)
#   YARN_WEB=http://127.0.0.1:PORT  (the ResourceManager's web UI and REST API)
#   HADOOP_CONF_DIR=DIR/conf        (give it to clients: --hadoop-conf, -conf, classpath)
# Stop with deploy/hadoop/stop-yarn.sh DIR (stop-hdfs.sh DIR stops YARN too). Logs:
# DIR/logs/{resourcemanager,nodemanager}.log, container logs in DIR/yarn/logs. Exit status
# non-zero (and nothing left running) if the NodeManager has not registered within
# $MEDHUB_YARN_START_TIMEOUT seconds (default 180).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
"$here/fetch-deps.sh" > /dev/null

dir="${1:?usage: start-yarn.sh DIR}"
mkdir -p "$dir"/{conf,logs,tmp,yarn/local,yarn/logs}
dir="$(cd "$dir" && pwd)"
rm_pid_file="$dir/resourcemanager.pid"
if [[ -f "$rm_pid_file" ]] && kill -0 "$(cat "$rm_pid_file")" 2> /dev/null; then
  echo "start-yarn.sh: a ResourceManager already runs for $dir" >&2
  exit 1
fi
java_bin="$(readlink -f "$(command -v java)")"
export JAVA_HOME="${JAVA_HOME:-${java_bin%/bin/java}}"
nm_mb="${MEDHUB_YARN_NM_MB:-2048}"

read -r rm_port rm_sched rm_track rm_admin rm_web nm_port nm_loc nm_web shuffle < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(9)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }
if [[ ! -f "$dir/conf/core-site.xml" ]]; then
  { echo '<?xml version="1.0"?><configuration>'
    prop fs.defaultFS file:///
    prop hadoop.tmp.dir "$dir/tmp"
    echo '</configuration>'; } > "$dir/conf/core-site.xml"
fi
if [[ ! -f "$dir/conf/log4j.properties" ]]; then
  printf '%s\n' 'log4j.rootLogger=INFO,F' 'log4j.appender.F=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.F.layout=org.apache.log4j.PatternLayout' \
    'log4j.appender.F.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n' \
    > "$dir/conf/log4j.properties"
fi
{
  echo '<?xml version="1.0"?><configuration>'
  prop yarn.resourcemanager.hostname 127.0.0.1
  prop yarn.resourcemanager.address "127.0.0.1:$rm_port"
  prop yarn.resourcemanager.scheduler.address "127.0.0.1:$rm_sched"
  prop yarn.resourcemanager.resource-tracker.address "127.0.0.1:$rm_track"
  prop yarn.resourcemanager.admin.address "127.0.0.1:$rm_admin"
  prop yarn.resourcemanager.webapp.address "127.0.0.1:$rm_web"
  prop yarn.nodemanager.hostname 127.0.0.1
  prop yarn.nodemanager.address "127.0.0.1:$nm_port"
  prop yarn.nodemanager.localizer.address "127.0.0.1:$nm_loc"
  prop yarn.nodemanager.webapp.address "127.0.0.1:$nm_web"
  prop yarn.nodemanager.local-dirs "$dir/yarn/local"
  prop yarn.nodemanager.log-dirs "$dir/yarn/logs"
  prop yarn.nodemanager.resource.memory-mb "$nm_mb"
  prop yarn.nodemanager.resource.cpu-vcores 4
  prop yarn.scheduler.minimum-allocation-mb 128
  prop yarn.scheduler.maximum-allocation-mb "$nm_mb"
  # Task JVMs reserve much more virtual memory than they use; the streamed medhub processes
  # are the containers' children: no memory kill on a shared test machine.
  prop yarn.nodemanager.vmem-check-enabled false
  prop yarn.nodemanager.pmem-check-enabled false
  # A nearly full disk on a CI machine must not mark the only node unhealthy (jobs would
  # wait in ACCEPTED forever).
  prop yarn.nodemanager.disk-health-checker.enable false
  prop yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage 100
  prop yarn.nodemanager.aux-services mapreduce_shuffle
  prop yarn.nodemanager.aux-services.mapreduce_shuffle.class org.apache.hadoop.mapred.ShuffleHandler
  prop mapreduce.shuffle.port "$shuffle"
  prop yarn.nodemanager.env-whitelist "JAVA_HOME,HADOOP_COMMON_HOME,HADOOP_HDFS_HOME,\
HADOOP_CONF_DIR,CLASSPATH_PREPEND_DISTCACHE,HADOOP_YARN_HOME,HADOOP_HOME,PATH,LANG,TZ,\
HADOOP_MAPRED_HOME"
  prop yarn.application.classpath "$dir/conf,$MEDHUB_HADOOP_LIB/*"
  # One node: heartbeats every 250 ms instead of 1 s, so a container is handed out sooner.
  prop yarn.resourcemanager.nodemanagers.heartbeat-interval-ms 250
  prop yarn.nodemanager.delete.debug-delay-sec 0
  prop yarn.log-aggregation-enable false
  echo '</configuration>'
} > "$dir/conf/yarn-site.xml"

task_opts="-XX:+UseSerialGC $(echo $HADOOP_JPMS_OPTS)"
{
  echo '<?xml version="1.0"?><configuration>'
  prop mapreduce.framework.name yarn
  prop mapreduce.application.classpath "$dir/conf,$MEDHUB_HADOOP_LIB/*"
  prop yarn.app.mapreduce.am.env "HADOOP_MAPRED_HOME=$dir"
  prop mapreduce.map.env "HADOOP_MAPRED_HOME=$dir"
  prop mapreduce.reduce.env "HADOOP_MAPRED_HOME=$dir"
  prop yarn.app.mapreduce.am.resource.mb 512
  prop yarn.app.mapreduce.am.command-opts "-Xmx384m $task_opts"
  prop yarn.app.mapreduce.am.scheduler.heartbeat.interval-ms 250
  prop mapreduce.map.memory.mb 512
  prop mapreduce.reduce.memory.mb 512
  prop mapreduce.map.java.opts "-Xmx300m $task_opts"
  prop mapreduce.reduce.java.opts "-Xmx300m $task_opts"
  prop mapreduce.task.io.sort.mb 64
  prop mapreduce.job.reduce.slowstart.completedmaps 1.0
  prop yarn.app.mapreduce.am.staging-dir /tmp/hadoop-yarn/staging
  echo '</configuration>'
} > "$dir/conf/mapred-site.xml"
{
  echo '<?xml version="1.0"?><configuration>'
  prop yarn.scheduler.capacity.root.queues default
  prop yarn.scheduler.capacity.root.default.capacity 100
  prop yarn.scheduler.capacity.root.default.maximum-capacity 100
  # The default 0.1 leaves 204 MB for application masters of a 2 GB node: less than one AM.
  prop yarn.scheduler.capacity.maximum-am-resource-percent 0.5
  echo '</configuration>'
} > "$dir/conf/capacity-scheduler.xml"

start_recorded "$dir" 512m resourcemanager \
  org.apache.hadoop.yarn.server.resourcemanager.ResourceManager
start_recorded "$dir" 512m nodemanager org.apache.hadoop.yarn.server.nodemanager.NodeManager

web="http://127.0.0.1:$rm_web"
deadline=$((SECONDS + ${MEDHUB_YARN_START_TIMEOUT:-180}))
ready=0
while ((SECONDS < deadline)); do
  for p in resourcemanager nodemanager; do
    if ! kill -0 "$(cat "$dir/$p.pid")" 2> /dev/null; then
      echo "start-yarn.sh: the $p exited; see $dir/logs/$p.log" >&2
      tail -n 20 "$dir/logs/$p.log" >&2 || true
      "$here/stop-yarn.sh" "$dir" > /dev/null 2>&1 || true
      exit 1
    fi
  done
  # Ready when the NodeManager has registered and offers its memory.
  mb=$(curl -s -m 5 "$web/ws/v1/cluster/metrics" 2> /dev/null |
    python3 -c 'import sys, json
m = json.load(sys.stdin)["clusterMetrics"]
print(m["availableMB"] if m["activeNodes"] > 0 else 0)' 2> /dev/null || echo 0)
  if [[ "$mb" =~ ^[0-9]+$ ]] && ((mb > 0)); then ready=1; break; fi
  sleep 0.5
done
if ((!ready)); then
  echo "start-yarn.sh: no NodeManager registered in time; logs in $dir/logs" >&2
  "$here/stop-yarn.sh" "$dir" > /dev/null 2>&1 || true
  exit 1
fi

cat > "$dir/yarn.env" << ENV
YARN_DIR=$dir
YARN_RM=127.0.0.1:$rm_port
YARN_WEB=$web
HADOOP_CONF_DIR=$dir/conf
ENV
cat "$dir/yarn.env"
