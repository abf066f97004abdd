#!/usr/bin/env bash
# The test command: installs what is missing, builds (CI preset: optimized, warnings are
# errors), runs every registered test, then runs the resource-parser fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/medhub-ccache}"
# Paths relative to the parent folder, so worktrees side by side share cache entries.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd .. && pwd)}"

# Hadoop 3.5.0 jars for the HDFS tests (label hadoop), cached in ~/.m2 and build/hadoop/lib;
# the tests start and stop their own HDFS with deploy/hadoop/start-hdfs.sh.
deploy/hadoop/fetch-deps.sh

cmake --preset ci
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci -j 2

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer — all but the
# `hadoop` label: those run a JVM (HDFS, Hadoop Streaming) for minutes and ran above.
if [[ "${MEDHUB_SKIP_ASAN:-0}" != "1" ]]; then
  cmake --preset asan > /dev/null
  cmake --build --preset asan -j "$(nproc)"
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan -j 2 -LE hadoop
fi

# Fuzz the FHIR resource parser (libFuzzer) for a short, bounded time, seeded with the
# official examples and the JSON test suite.
fuzz_seconds="${MEDHUB_FUZZ_SECONDS:-60}"
if (( fuzz_seconds > 0 )); then
  cmake --preset fuzz > /dev/null
  cmake --build --preset fuzz --target resource_fuzz json_lazy_fuzz -j "$(nproc)"
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
  cp ../shared/data/fhir/examples/*.json ../shared/data/testsuites/json/test_parsing/*.json "$corpus"/
  echo "fuzzing the resource parser for ${fuzz_seconds}s"
  build/fuzz/src/fhir/resource_fuzz -max_total_time="$fuzz_seconds" -max_len=65536 \
    -print_final_stats=1 "$corpus" 2>&1 | tail -n 15
  # The analytics scanner must read exactly what the parser reads (same corpus, half time).
  echo "fuzzing the lazy JSON scanner against the parser for $((fuzz_seconds / 2))s"
  build/fuzz/src/core/json_lazy_fuzz -max_total_time="$((fuzz_seconds / 2))" -max_len=65536 \
    -print_final_stats=1 "$corpus" 2>&1 | tail -n 15
fi
echo "all tests passed"
