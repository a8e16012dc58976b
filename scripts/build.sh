#!/usr/bin/env bash
# Installs the Debian packages (if missing) and builds OrbitMesh into build/ (Release unless told).
# Usage: scripts/build.sh [--target NAME] [--build-type TYPE] [extra cmake -D flags...]
#   --target NAME      build only NAME and what it needs (the demo builds just `orbitmesh`)
#   --build-type TYPE  Release (default), Quick (-O1: the demo's fast first build), Debug, ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=()
type=Release
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=(--target "$2"); shift 2 ;;
    --build-type) type="$2"; shift 2 ;;
    *) flags+=("$1"); shift ;;
  esac
done
[ -n "${ORBITMESH_SKIP_DEPS:-}" ] || "$root/scripts/install-deps.sh"
build="${ORBITMESH_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${flags[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" "${target[@]}"
echo "build: $build/cli/orbitmesh ($type)"
