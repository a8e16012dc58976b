#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) and fuzzes each one for a bounded time,
# from its seed corpus (tests/fuzz/corpus/TARGET) and every past crash (tests/fuzz/regressions/TARGET).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 20 s; targets: frame workflow expression)
# What the fuzzer learns stays in build-fuzz/corpus/ for the next run. A crash stops the script with
# exit 1 and leaves its input in build-fuzz/findings/TARGET/: fix the bug, then keep that input in
# tests/fuzz/regressions/TARGET/ so every regular build replays it (ctest fuzz_replay_TARGET).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame workflow expression)
build="${ORBITMESH_FUZZ_BUILD_DIR:-$root/build-fuzz}"
case "$seconds" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;; esac
if [ "$seconds" -gt 60 ]; then echo "fuzz: at most 60 s per target here (CI budget), got $seconds" >&2; exit 2; fi

# -O1 with line tables only: fast to build, still readable sanitizer stacks.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DORBITMESH_FUZZ=ON -DORBITMESH_TESTS=OFF -DORBITMESH_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  seeds=("$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t")
  [ "$t" = workflow ] && seeds+=("$root/examples" "$root/tests/data/workflows")
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$findings/" -print_final_stats=1 "$work" "${seeds[@]}" 2>"$build/fuzz-$t.log"; then
    echo "fuzz: $t FOUND A CRASH; input in $findings/, log in $build/fuzz-$t.log:" >&2
    grep -m 20 -E "ERROR|SUMMARY|==[0-9]+==|#[0-9]+ " "$build/fuzz-$t.log" >&2 || tail -20 "$build/fuzz-$t.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$build/fuzz-$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
