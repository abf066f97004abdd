#!/usr/bin/env bash
# The transmission experiment: home devices -> medhub over a lossy link (docs/benchmarks.md).
#
#   sudo bench/transmission/run.sh BUILD_DIR OUT_DIR [SECONDS] [LOSSES...]
#
# Two network namespaces made here (medhub-tx-srv: medhub + Mosquitto; medhub-tx-dev: the
# device simulator) joined by a veth pair. Each namespace drops the given share of the
# packets it sends on the veth (default 0 1 5 10 30 %), so the loss applies in each
# direction: `tc netem` would be the usual tool, but this kernel has no sch_netem, so the
# drop is an nftables rule (`numgen random mod 100 < LOSS drop`) and no delay is added. For each loss and for
# HTTP and MQTT: a fresh data directory, 4 devices making 50 readings/s each for SECONDS
# (default 20), then the simulator drains its spool. Writes OUT_DIR/transmission.tsv (sent,
# acknowledged, stored as counted by medhub, duplicates, lost = sent - stored, throughput,
# latency p50/p99) and, with gnuplot, OUT_DIR/transmission.png. Everything it starts is
# stopped and both namespaces are deleted on exit. Traffic stays inside the namespaces.
set -euo pipefail
build=$(realpath "${1:?usage: run.sh BUILD_DIR OUT_DIR [SECONDS] [LOSSES...]}")
out=$(realpath -m "${2:?usage: run.sh BUILD_DIR OUT_DIR [SECONDS] [LOSSES...]}")
secs=${3:-20}
shift $(( $# >= 3 ? 3 : $# ))
losses=("$@")
((${#losses[@]})) || losses=(0 1 5 10 30)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
medhub=$build/src/cli/medhub
[[ -x $medhub ]] || { echo "no medhub binary at $medhub" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "run as root (ip netns, tc)" >&2; exit 2; }

srv=medhub-tx-srv dev=medhub-tx-dev
srv_ip=10.77.0.1 dev_ip=10.77.0.2
work=$(mktemp -d /tmp/medhub-tx.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del $srv 2>/dev/null || true
  ip netns del $dev 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add $srv
ip netns add $dev
ip link add mhtx-srv type veth peer name mhtx-dev
ip link set mhtx-srv netns $srv
ip link set mhtx-dev netns $dev
ip -n $srv addr add $srv_ip/24 dev mhtx-srv
ip -n $dev addr add $dev_ip/24 dev mhtx-dev
for ns in $srv $dev; do ip -n $ns link set lo up; done
ip -n $srv link set mhtx-srv up
ip -n $dev link set mhtx-dev up

mkdir -p "$out"
tsv=$out/transmission.tsv
printf 'transport\tloss_pct\tsent\tacknowledged\tstored\tduplicates\tretried\tlost\tseconds\treadings_per_s\tp50_ms\tp99_ms\n' >"$tsv"

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

wait_for() {  # FILE TEXT: waits up to 30 s for TEXT in FILE
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

run_one() {  # TRANSPORT LOSS
  local transport=$1 loss=$2 d=$work/$1-$2
  mkdir -p "$d"
  printf '%s' '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","id":"pat1"},"request":{"method":"PUT","url":"Patient/pat1"}}]}' >"$d/p.json"
  "$medhub" import --data "$d/data" "$d/p.json" >/dev/null 2>&1
  "$medhub" devices register --data "$d/data" --patient pat1 --count 4 --prefix dev \
    --out "$d/creds.tsv" >/dev/null
  local serve=("$medhub" serve --data "$d/data" --address $srv_ip --port 8080)
  local sim=("$medhub" devices simulate --credentials "$d/creds.tsv" --devices 4 --rate 50
             --duration "$secs" --drain 600 --batch 100 --spool "$d/spool")
  if [[ $transport == mqtt ]]; then
    ip netns exec $srv "$root/deploy/mosquitto/start.sh" "$d/broker" 1883 $srv_ip 2>"$d/broker.log" &
    pids+=($!)
    sleep 0.5
    serve+=(--mqtt $srv_ip:1883)
    sim+=(--mqtt $srv_ip:1883 --auth http://$srv_ip:8080)
  else
    sim+=(--http http://$srv_ip:8080)
  fi
  ip netns exec $srv "${serve[@]}" >"$d/serve.log" 2>&1 &
  local serve_pid=$!
  pids+=($serve_pid)
  wait_for "$d/serve.log" "listening on"
  local start end
  start=$(date +%s.%N)
  ip netns exec $dev "${sim[@]}" >"$d/sim.log" 2>&1 || true
  end=$(date +%s.%N)
  local done_line stored
  done_line=$(grep '^done:' "$d/sim.log" || echo "done: sim failed")
  stored=$(ip netns exec $srv curl -s "http://$srv_ip:8080/fhir/Observation?patient=pat1&_summary=count" |
           sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  kill $serve_pid; wait $serve_pid 2>/dev/null || true
  if [[ $transport == mqtt ]]; then kill "${pids[-2]}" 2>/dev/null || true; fi
  local sent ack dups retried p50 p99 seconds
  sent=$(field sent "$done_line"); ack=$(field acknowledged "$done_line")
  dups=$(field duplicates "$done_line"); retried=$(field retried "$done_line")
  p50=$(field p50_ms "$done_line"); p99=$(field p99_ms "$done_line")
  seconds=$(echo "$end - $start" | bc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f\t%s\t%s\n' "$transport" "$loss" "$sent" "$ack" \
    "$stored" "$dups" "$retried" "$((sent - stored))" "$seconds" "$(echo "$ack / $seconds" | bc -l)" \
    "$p50" "$p99" | tee -a "$tsv"
}

for ns_if in "$srv mhtx-srv" "$dev mhtx-dev"; do
  set -- $ns_if
  ip netns exec "$1" nft add table inet mhtx
  ip netns exec "$1" nft add chain inet mhtx out '{ type filter hook output priority 0; }'
done
for loss in "${losses[@]}"; do
  for ns_if in "$srv mhtx-srv" "$dev mhtx-dev"; do
    set -- $ns_if
    ip netns exec "$1" nft flush chain inet mhtx out
    ip netns exec "$1" nft add rule inet mhtx out oifname "$2" numgen random mod 100 '<' "$loss" drop
  done
  for transport in http mqtt; do run_one $transport "$loss"; done
done

if command -v gnuplot >/dev/null; then
  gnuplot <<PLOT
set terminal png size 900,420
set output "$out/transmission.png"
set datafile separator "\t"
set multiplot layout 1,2 title "medhub device ingest over a lossy link (random drop each way, nftables)"
set xlabel "packet loss each way (%)"
set ylabel "readings/s acknowledged"
set key top right
set logscale y
plot "< awk -F'\t' 'NR>1 && \$1==\"http\"' $tsv" using 2:10 with linespoints title "HTTP", \
     "< awk -F'\t' 'NR>1 && \$1==\"mqtt\"' $tsv" using 2:10 with linespoints title "MQTT"
set ylabel "latency p99 (ms), made -> acknowledged"
plot "< awk -F'\t' 'NR>1 && \$1==\"http\"' $tsv" using 2:12 with linespoints title "HTTP p99", \
     "< awk -F'\t' 'NR>1 && \$1==\"mqtt\"' $tsv" using 2:12 with linespoints title "MQTT p99"
unset multiplot
PLOT
fi
echo "results in $tsv"
