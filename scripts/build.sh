#!/usr/bin/env bash
# Installs the Debian packages (if missing) and builds OrbitMesh into build/ (Release).
# Usage: scripts/build.sh [--target NAME] [extra cmake -D flags...]
#   --target NAME  build only NAME and what it needs (the demo builds just `orbitmesh`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=()
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=(--target "$2"); shift 2 ;;
    *) flags+=("$1"); shift ;;
  esac
done
[ -n "${ORBITMESH_SKIP_DEPS:-}" ] || "$root/scripts/install-deps.sh"
build="${ORBITMESH_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${flags[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" "${target[@]}"
echo "build: $build/cli/orbitmesh"
