#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: the release build runs all labels
# (core, helper, integration); an AddressSanitizer + UBSan build runs the unit tests again.
# Run as root: integration tests create network namespaces and TUN devices.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test

jobs=$(nproc)
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
cmake --preset debug-asan >/dev/null
cmake --build --preset debug-asan -j "$jobs"

echo "== unit tests under ASan/UBSan"
ctest --preset debug-asan -L 'core|helper' -j "$jobs"
echo "== all tests (release)"
ctest --preset release -j "$jobs"
