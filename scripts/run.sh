#!/usr/bin/env bash
# Installs dependencies, builds calnetd, and runs the demonstration: two calnetd instances in
# network namespaces with a WireGuard tunnel between them, pinging, then `wg show`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
source scripts/buildflags.sh
cmake --preset release "${CALNET_RELEASE_FLAGS[@]}" >/dev/null
cmake --build --preset release -j "$(nproc)"
exec scripts/demo.sh build/release/helper/calnetd
