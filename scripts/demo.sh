#!/usr/bin/env bash
# The demo command: installs what is missing, builds, imports the shipped Synthea patients
# into a fresh data directory and serves them. Extra arguments go to `medhub demo`
# (for example --port 9090 or --data DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/medhub-ccache}"
cmake --preset dev > /dev/null
cmake --build --preset dev --target medhub -j "$(nproc)"
exec build/dev/src/cli/medhub demo --sample ../shared/data/fhir/synthea "$@"
