# Sourced by the deploy/hadoop scripts (and usable by others): where the Hadoop jars are,
# the JVM flags every Hadoop JVM needs on JDK 17, and start_recorded/stop_recorded (the daemons
# of the start and stop scripts).
#   MEDHUB_HADOOP_LIB  folder of the jars (default: <repo>/build/hadoop/lib), filled by
#                      fetch-deps.sh from Maven Central (cached in ~/.m2)
#   HADOOP_JPMS_OPTS   the --add-opens flags Hadoop 3.5 itself adds on JDK 17
MEDHUB_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MEDHUB_HADOOP_LIB="${MEDHUB_HADOOP_LIB:-$MEDHUB_REPO_ROOT/build/hadoop/lib}"
HADOOP_JPMS_OPTS="-XX:+IgnoreUnrecognizedVMOptions \
 --add-opens=java.base/java.io=ALL-UNNAMED \
 --add-opens=java.base/java.lang=ALL-UNNAMED \
 --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
 --add-opens=java.base/java.math=ALL-UNNAMED \
 --add-opens=java.base/java.net=ALL-UNNAMED \
 --add-opens=java.base/java.nio=ALL-UNNAMED \
 --add-opens=java.base/java.text=ALL-UNNAMED \
 --add-opens=java.base/java.util=ALL-UNNAMED \
 --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
 --add-opens=java.base/java.util.zip=ALL-UNNAMED \
 --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
 --add-opens=java.base/sun.security.util=ALL-UNNAMED \
 --add-opens=java.base/sun.security.x509=ALL-UNNAMED \
 -Djava.net.preferIPv4Stack=true"
export MEDHUB_HADOOP_LIB HADOOP_JPMS_OPTS

# start_recorded DIR HEAP NAME MAIN_CLASS: starts a Hadoop daemon in the background with
# DIR/conf and the jars on its classpath, its log in DIR/logs/NAME.log and its process id
# in DIR/NAME.pid (for stop_recorded).
start_recorded() {
  local dir="$1" heap="$2" name="$3" main="$4"
  # shellcheck disable=SC2086
  nohup java $HADOOP_JPMS_OPTS -Dhadoop.log.dir="$dir/logs" -Dhadoop.home.dir="$dir" \
    -Djava.io.tmpdir="$dir/tmp" -Xmx"$heap" -XX:+UseSerialGC -cp "$dir/conf:$MEDHUB_HADOOP_LIB/*" \
    "$main" >> "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}

# stop_recorded DIR NAME...: stops each daemon whose process id a start script recorded in
# DIR/NAME.pid (TERM, then KILL after 10 s) and removes the pid file. Missing files are fine.
stop_recorded() {
  local dir="$1" p f pid
  shift
  for p in "$@"; do
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
}
