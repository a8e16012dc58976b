#!/usr/bin/env bash
# Installs the Debian packages (if missing) and builds OrbitMesh into build/ (Release).
# Usage: scripts/build.sh [extra cmake -D flags...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build="${ORBITMESH_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "build: $build/cli/orbitmesh"
