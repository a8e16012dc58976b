#!/usr/bin/env bash
# Builds OrbitMesh and runs every test: unit tests per layer and the end-to-end suite, which
# starts real hubs and agents on 127.0.0.1. This is the command CI runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${ORBITMESH_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh" -DORBITMESH_WERROR=ON
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
