#!/usr/bin/env bash
# Builds the Debian package from build/ (after scripts/build.sh) and lists its contents.
#   scripts/package.sh [--install-check]
#   --install-check  also install it with dpkg -i, run the installed /usr/bin/orbitmesh, remove it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${ORBITMESH_BUILD_DIR:-$root/build}"
check=0
for arg in "$@"; do
  case "$arg" in
    --install-check) check=1 ;;
    *) echo "package: unknown option '$arg' (usage: $0 [--install-check])" >&2; exit 2 ;;
  esac
done
out="$build/package"
rm -rf "$out"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >/dev/null
deb=$(ls "$out"/*.deb)
echo "package: $deb"
dpkg-deb -c "$deb" | awk '{print "  " $NF}'
[ "$check" -eq 1 ] || exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if dpkg-query -W -f='${Status}' orbitmesh 2>/dev/null | grep -q 'install ok installed'; then
  echo "package: orbitmesh is installed on this machine already; not touching it" >&2
  exit 0
fi
"${sudo_cmd[@]}" dpkg -i "$deb" >/dev/null
trap '"${sudo_cmd[@]}" dpkg -r orbitmesh >/dev/null' EXIT
/usr/bin/orbitmesh version
/usr/bin/orbitmesh serve --config /etc/orbitmesh/hub.yaml --print-config | head -3
test -f /usr/lib/systemd/system/orbitmesh-agent.service
getent passwd orbitmesh-agent >/dev/null
echo "package: installed, ran /usr/bin/orbitmesh version, removed again"
