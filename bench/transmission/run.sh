#!/usr/bin/env bash
# The transmission experiment: home devices -> medhub over a lossy link (docs/benchmarks.md).
#
#   sudo [DELAY_MS=50 JITTER_MS=10] bench/transmission/run.sh BUILD_DIR OUT_DIR [SECONDS]
#        [LOSSES...]
#
# Two network namespaces made here (medhub-tx-srv: medhub + Mosquitto; medhub-tx-dev: the
# device simulator) joined by a veth pair. Each namespace drops the given share of the
# packets it sends on the veth (default 0 1 5 10 30 %), so the loss applies in each
# direction: `tc netem` would be the usual tool, but this kernel has no sch_netem, so the
# drop is an nftables rule (`numgen random mod 100 < LOSS drop`). With DELAY_MS > 0 each
# namespace also delays the packets it receives from the veth by DELAY_MS +- JITTER_MS
# (uniform, per-flow order kept): an iptables NFQUEUE rule (--queue-bypass) hands them to
# BUILD_DIR/bench/netdelay, which accepts each one once its delay has passed, so a round
# trip grows by 2 x DELAY_MS (checked before the runs with TCP connects; the script stops
# with a message if NFQUEUE does not work here). Loss and delay compose. For each loss
# and for HTTP and MQTT: a fresh data directory, 4 devices making 50 readings/s each for SECONDS
# (default 20), then the simulator drains its spool. Writes OUT_DIR/transmission.tsv (sent,
# acknowledged, stored as counted by medhub, duplicates, lost = sent - stored, throughput,
# latency p50/p99, the delay, packets the NFQUEUE dropped) and, with gnuplot,
# OUT_DIR/transmission.png; with a delay the names are transmission-delayDMS.{tsv,png}.
# Everything it starts is stopped and both namespaces are deleted on exit. Traffic stays
# inside the namespaces.
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
[[ $(id -u) -eq 0 ]] || { echo "run as root (ip netns, nft, iptables)" >&2; exit 2; }
# Fresh data directories only: a throwaway master key unless one is given.
export MEDHUB_MASTER_KEY=${MEDHUB_MASTER_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
delay=${DELAY_MS:-0} jitter=${JITTER_MS:-0}
netdelay=$build/bench/netdelay
if [[ $delay != 0 ]]; then
  [[ -x $netdelay ]] || { echo "no packet delayer at $netdelay (cmake --build ... --target netdelay)" >&2; exit 2; }
  if ! command -v iptables >/dev/null; then
    echo "installing iptables (for the NFQUEUE rule)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iptables >&2 ||
      { echo "iptables is needed for DELAY_MS (apt-get install iptables)" >&2; exit 2; }
  fi
fi

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
name=transmission
[[ $delay != 0 ]] && name=transmission-delay${delay}ms
tsv=$out/$name.tsv
printf 'transport\tloss_pct\tsent\tacknowledged\tstored\tduplicates\tretried\tlost\tseconds\treadings_per_s\tp50_ms\tp99_ms\tdelay_ms\tjitter_ms\tnfq_dropped\n' >"$tsv"

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
  local secret  # a reader for the stored count (serve requires a token)
  secret=$("$medhub" client add --data "$d/data" --client-id tx-counter --role service \
           --org tx --scope "system/Observation.read" | sed -n 's/^client_secret: //p')
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
  local dropped_before
  dropped_before=$(nfq_dropped)
  start=$(date +%s.%N)
  ip netns exec $dev "${sim[@]}" >"$d/sim.log" 2>&1 || true
  end=$(date +%s.%N)
  delayers_alive
  local done_line stored
  done_line=$(grep '^done:' "$d/sim.log" || echo "done: sim failed")
  local token
  token=$(ip netns exec $srv curl -s -d "grant_type=client_credentials&client_id=tx-counter" \
            --data-urlencode "client_secret=$secret" "http://$srv_ip:8080/auth/token" |
          sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  stored=$(ip netns exec $srv curl -s -H "Authorization: Bearer $token" \
             "http://$srv_ip:8080/fhir/Observation?patient=pat1&_summary=count" |
           sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  [[ -n $stored ]] || { echo "could not count the stored readings ($d/serve.log)" >&2; exit 4; }
  kill $serve_pid; wait $serve_pid 2>/dev/null || true
  if [[ $transport == mqtt ]]; then kill "${pids[-2]}" 2>/dev/null || true; fi
  local sent ack dups retried p50 p99 seconds
  sent=$(field sent "$done_line"); ack=$(field acknowledged "$done_line")
  dups=$(field duplicates "$done_line"); retried=$(field retried "$done_line")
  p50=$(field p50_ms "$done_line"); p99=$(field p99_ms "$done_line")
  seconds=$(echo "$end - $start" | bc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t%s\n' "$transport" "$loss" \
    "$sent" "$ack" "$stored" "$dups" "$retried" "$((sent - stored))" "$seconds" \
    "$(echo "$ack / $seconds" | bc -l)" "$p50" "$p99" "$delay" "$jitter" \
    "$(($(nfq_dropped) - dropped_before))" | tee -a "$tsv"
}

# The delay: one netdelay per namespace on NFQUEUE 0, fed by an iptables rule on the veth
# *ingress* (INPUT -i veth; --queue-bypass: packets pass undelayed if no delayer is bound,
# so the checks below and after each run make sure it is there). Not on the sender's
# egress: a packet held there still belongs to its socket, and TCP Small Queues lets a
# socket keep only ~2 packets below it, which throttled one connection to ~1 Mbit/s at
# 50 ms (netem orphans delayed packets for this reason). On input the packet is already
# orphaned (ip_rcv), as it would be on a router between the two hosts.
nfq_dropped() {  # packets the kernel dropped at the queues (full or unreadable), both sides
  local sum=0 f
  for ns in $srv $dev; do
    f=$(ip netns exec $ns cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
        awk '{d += $6 + $7} END {print d + 0}')
    sum=$((sum + f))
  done
  echo $sum
}
delayer_pids=()
start_delayers() {
  local rt=()
  command -v chrt >/dev/null && rt=(chrt -f 10)  # verdicts on time on a loaded machine
  for ns_if in "$srv mhtx-srv" "$dev mhtx-dev"; do
    set -- $ns_if
    ip netns exec "$1" "${rt[@]}" "$netdelay" --queue 0 --delay-ms "$delay" \
      --jitter-ms "$jitter" --seed $RANDOM 2>"$work/netdelay-$1.log" &
    pids+=($!) delayer_pids+=($!)
    local pid=$! ok=""
    for _ in $(seq 100); do
      grep -q ready "$work/netdelay-$1.log" && { ok=1; break; }
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    [[ $ok ]] || { cat "$work/netdelay-$1.log" >&2
      echo "netdelay could not bind NFQUEUE 0 in $1: no delay possible here" >&2; exit 3; }
    ip netns exec "$1" iptables -A INPUT -i "$2" -j NFQUEUE --queue-num 0 --queue-bypass ||
      { echo "iptables NFQUEUE rule refused in $1 (no xt_NFQUEUE in this kernel?)" >&2; exit 3; }
  done
}
delayers_alive() {
  for p in "${delayer_pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "netdelay $p died: results would have no delay" >&2; return 1; }
  done
}
stop_delayers() {  # prints each delayer's counts (achieved delay, timer lateness)
  for p in "${delayer_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  delayer_pids=()
  cat "$work"/netdelay-*.log 2>/dev/null || true
}
connect_ms() {  # median TCP connect time dev -> srv over 7 tries (one round trip)
  for _ in 1 2 3 4 5 6 7; do
    ip netns exec $dev curl -s -o /dev/null --connect-timeout 5 -w '%{time_connect}\n' \
      "http://$srv_ip:8000/"
  done | sort -n | sed -n 4p | awk '{printf "%.1f", $1 * 1000}'
}

if [[ $delay != 0 ]]; then
  ip netns exec $srv python3 -m http.server 8000 --bind $srv_ip >/dev/null 2>&1 &
  probe_pid=$!
  pids+=($probe_pid)
  for _ in $(seq 50); do
    ip netns exec $dev curl -s -o /dev/null "http://$srv_ip:8000/" && break; sleep 0.1
  done
  rtt_before=$(connect_ms)
  start_delayers
  rtt_after=$(connect_ms)
  kill $probe_pid; wait $probe_pid 2>/dev/null || true
  echo "TCP connect (one round trip), median of 7: ${rtt_before} ms without delay," \
    "${rtt_after} ms with ${delay} +- ${jitter} ms each way" | tee "$out/$name-rtt.txt"
  if (($(echo "$rtt_after - $rtt_before < 1.8 * ($delay - $jitter)" | bc -l))); then
    echo "the round trip did not grow by about 2 x ${delay} ms: NFQUEUE delay not in effect" >&2
    exit 3
  fi
fi

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
stop_delayers

title_delay=""
[[ $delay != 0 ]] && title_delay=", delay ${delay} +- ${jitter} ms each way (NFQUEUE)"
if command -v gnuplot >/dev/null; then
  gnuplot <<PLOT
set terminal png size 900,420
set output "$out/$name.png"
set datafile separator "\t"
set multiplot layout 1,2 title "medhub device ingest over a lossy link (random drop each way, nftables)$title_delay"
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
