#!/usr/bin/env bash
# Installs the Debian 12 packages OrbitMesh needs to build, test and benchmark.
# Idempotent: packages already present are left alone; apt-get update runs only when needed.
#   scripts/install-deps.sh [--build-only] [--peers]
#   --build-only  only what building and running the binary needs (the demo uses this; the tests
#                 need the rest)
#   --peers  also install the peers `bench/run --peers` measures side by side: gearman-job-server
#            beanstalkd redis-server python3-celery python3-redis (not needed to build or test)
# Why some are here: openssl: the auth tests make RSA keys at test time; clang-14 +
# libfuzzer-14-dev: scripts/fuzz.sh (libFuzzer ships with clang, not GCC); bubblewrap:
# `agent --sandbox`; clang-14, lld-14 (wasm-ld), wasi-libc, libclang-rt-14-dev-wasm32: the tests
# build WASI modules for the wasm handler; dpkg-dev, fakeroot: cpack's .deb; postgresql-15,
# libpq-dev: the PostgreSQL store and the tests that start a real server; chromium: the
# dashboard's headless-browser test; prometheus: promtool checks /metrics in a test.
set -euo pipefail

peers=0
build_only=0
for arg in "$@"; do
  case "$arg" in
    --peers) peers=1 ;;
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option '$arg' (usage: $0 [--build-only] [--peers])" >&2; exit 2 ;;
  esac
done

build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.74-dev libboost-system1.74-dev libmsgpack-cxx-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  catch2 libsqlite3-dev libsqlitecpp-dev libssl-dev libjemalloc-dev libpq-dev openssl tzdata
)
packages=(
  "${build_packages[@]}"
  sqlite3 python3 python3-pytest python3-websocket python3-msgpack
  nodejs
  openssl bubblewrap clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 libfuzzer-14-dev
  dpkg-dev fakeroot
  postgresql-15
  chromium prometheus
)
[ "$build_only" -eq 0 ] || packages=("${build_packages[@]}")
if [ "$peers" -eq 1 ]; then
  packages+=(gearman-job-server beanstalkd redis-server python3-celery python3-redis)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
