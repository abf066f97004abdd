#!/usr/bin/env bash
# Installs what medhub needs to build and test, from Debian's packages. Idempotent: it
# asks apt only for packages that are missing. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  librocksdb-dev libboost1.81-dev libssl-dev libsodium-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  mosquitto mosquitto-clients libmosquitto-dev   # device ingest over MQTT (tests start the broker)
  clang libclang-rt-14-dev   # libFuzzer for the fuzz target
  curl python3
  zookeeper libzookeeper-mt-dev default-jre-headless   # the ledger consortium's ordering
  libjemalloc-dev   # cmake/allocator.cmake: jemalloc for medhub and the benchmarks
  openjdk-17-jdk-headless maven   # deploy/hadoop: HDFS from the Hadoop 3.5.0 Maven jars
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(postgresql-15 postgresql-client-15 valgrind)
  packages+=(nftables gnuplot-nox bc iptables)   # bench/transmission/run.sh (iptables: NFQUEUE delay)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
