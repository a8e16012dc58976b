#!/usr/bin/env bash
# The main job, end to end on one machine: build, start a hub on the embedded SQLite store,
# start two agents, run a handful of jobs and show them finishing, then stop everything.
# Fast on a fresh machine: only the `orbitmesh` binary is built (not the tests), at -O1 (the
# Quick build type: ~30 % less compiler time than Release), ccache is kept, and each step says
# how far along it is. scripts/build.sh and scripts/test.sh build Release.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS
step() { echo "demo: [$1/3, $((SECONDS - start))s] $2"; }
step 1 "Debian packages (scripts/install-deps.sh)"
"$root/scripts/install-deps.sh" --build-only
step 2 "building the orbitmesh binary only, at -O1 (ninja shows [done/total])"
ORBITMESH_SKIP_DEPS=1 "$root/scripts/build.sh" --target orbitmesh --build-type Quick
step 3 "running the demo"
bin="${ORBITMESH_BIN:-${ORBITMESH_BUILD_DIR:-$root/build}/cli/orbitmesh}"
work=$(mktemp -d /tmp/orbitmesh-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "demo: stopped hub and agents; data left in $work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --port-file "$work/port" --data-dir "$work/hub" 2>"$work/hub.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "demo: hub did not start; see $work/hub.log" >&2; exit 1; }
export ORBITMESH_SERVER="http://127.0.0.1:$(cat "$work/port")"
echo "demo: hub on $ORBITMESH_SERVER (data in $work/hub)"

"$bin" agent --name alpha --data-dir "$work/alpha" --tag zone=a --capability gpu 2>"$work/alpha.log" &
pids+=($!)
"$bin" agent --name beta --data-dir "$work/beta" --tag zone=b 2>"$work/beta.log" &
pids+=($!)
for _ in $(seq 1 100); do
  [ "$("$bin" status agents -o json | grep -o '"state": "connected"' | wc -l)" -ge 2 ] && break
  sleep 0.1
done
"$bin" status agents

echo; echo "demo: an echo job, waited for:"
"$bin" job submit --wait -- echo hello from orbitmesh
echo; echo "demo: a shell job on the agent with the gpu capability:"
"$bin" job submit --wait --capability gpu -- shell 'echo "running on $(hostname) as job $ORBITMESH_JOB_ID"'
echo; echo "demo: system.info from the zone=b agent:"
"$bin" job submit --wait --tag zone=b -o json -- system.info | head -20
echo; echo "demo: ten jobs at once, then the job list:"
for i in $(seq 1 10); do "$bin" job submit -q -- shell "sleep 0.2; echo job $i" >/dev/null; done
for _ in $(seq 1 100); do
  [ "$("$bin" job list -o json | grep -cE '"state": "(pending|assigned|running)"')" -eq 0 ] && break
  sleep 0.2
done
"$bin" job list --limit 13
echo; echo "demo: a failing job exits 1 with its exit code recorded:"
"$bin" job submit --wait -- shell 'echo about to fail >&2; exit 3' || echo "demo: job submit --wait exited $?"
echo; echo "demo: a workflow (build, test, deploy with a compensation) across both agents:"
"$bin" run "$root/examples/build-test-deploy.yaml" --input version=1.0.0
echo; echo "demo: the same workflow failing its smoke test: the deploy is compensated, exit 1:"
"$bin" run "$root/examples/build-test-deploy.yaml" --input version=1.0.1 --input fail_smoke=true || echo "demo: run exited $?"
echo; "$bin" status runs
echo; "$bin" status
echo; echo "demo: done in $((SECONDS - start))s"
