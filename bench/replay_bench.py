#!/usr/bin/python3
"""Replay (SPEC §11): `orbitmesh replay --verify` over a log of N events, and a hub's start-up
time on that log with and without a snapshot.

The log is made by real runs: a hub (durability normal) and two agents run N/4 `echo` jobs
(submitted 1,000 per batch; a job is four events), then the hub stops cleanly (which writes a
snapshot). Then:
  - `replay --verify --data-dir DIR` runs `runs` times; events/s = events / wall time of the
    whole process (opening the store included), median;
  - `serve` starts on DIR `runs` times, the time to ready = process start until the port file
    exists and GET /readyz answers, median; once with the snapshot the clean stops leave, once
    with the snapshots deleted before each start (every event folded).

    /usr/bin/python3 bench/replay_bench.py --orbitmesh-bin build/cli/orbitmesh [--events 1000000]

Every process it starts is stopped by its PID; every wait is bounded. Prints JSON (one object)
on stdout and one summary line on stderr.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import e2e_throughput as e2e  # noqa: E402  (Client, Procs, stop_process, wait_until)


class ReplayBenchError(RuntimeError):
    pass


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def start_hub(binary, work, data_dir, name, extra=()):
    port_file = os.path.join(work, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(work, name + ".log"), "wb")
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--port-file",
                              port_file, "--durability", "normal", "--max-pending", "400000", *extra],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    finally:
        log.close()
    try:
        deadline = time.monotonic() + 120
        port = None
        for _ in range(120 * 200):
            if p.poll() is not None:
                raise ReplayBenchError(f"hub exited {p.returncode} during start-up (see {name}.log)")
            if os.path.exists(port_file):
                text = open(port_file).read().strip()
                if text.isdigit():
                    port = int(text)
                    break
            if time.monotonic() > deadline:
                raise ReplayBenchError("the hub was not ready within 120 s")
            time.sleep(0.005)
        c = e2e.Client(port, 10)
        for _ in range(2000):
            try:
                if c.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.005)
        c.close()
        return p, port, time.monotonic() - t0
    except BaseException:
        e2e.stop_process(p)
        raise


def fill(binary, work, events):
    """A real log of about `events` events; returns the data dir."""
    data_dir = os.path.join(work, "data")
    hub, port, _ = start_hub(binary, work, data_dir, "fill", ["--retain-jobs", "10000"])
    procs = e2e.Procs(work)
    try:
        for i in range(2):
            procs.start(f"agent{i}", [binary, "agent", "--server", f"http://127.0.0.1:{port}", "--name", f"r{i}",
                                      "--data-dir", os.path.join(work, f"agent{i}"), "--concurrency", "128"])
        c = e2e.Client(port, 60)
        e2e.wait_until(lambda: sum(1 for a in c.request("GET", "/api/v1/agents")[1]["agents"]
                                   if a["state"] == "connected") == 2, 30, "two agents")
        jobs = max(1, events // 4)
        sent = 0
        deadline = time.monotonic() + 900
        while sent < jobs and time.monotonic() < deadline:
            n = min(1000, jobs - sent)
            status, _ = c.request("POST", "/api/v1/jobs/batch",
                                  {"jobs": [{"command": "echo", "payload": f"job {sent + i}"} for i in range(n)]})
            if status == 429:
                time.sleep(0.1)
                continue
            if status not in (200, 201):
                raise ReplayBenchError(f"batch submit: HTTP {status}")
            sent += n
        for _ in range(9000):
            stats = c.request("GET", "/api/v1/stats")[1]
            if stats["jobs"]["succeeded"] >= jobs:
                break
            if time.monotonic() > deadline:
                raise ReplayBenchError(f"only {stats['jobs']['succeeded']} of {jobs} jobs done in time")
            time.sleep(0.1)
        c.close()
    finally:
        procs.stop_all()
        e2e.stop_process(hub)  # a clean stop: every row current, a snapshot at the last seq
    return data_dir


def verify_runs(binary, data_dir, runs):
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        cp = subprocess.run([binary, "replay", "--verify", "--data-dir", data_dir, "-o", "json"], capture_output=True,
                            text=True, timeout=600)
        wall = time.monotonic() - t0
        if cp.returncode != 0:
            raise ReplayBenchError(f"replay --verify exited {cp.returncode}: {cp.stderr.strip()[-300:]}")
        report = json.loads(cp.stdout)
        out.append((wall, report))
    return out


def startup_runs(binary, work, data_dir, runs, snapshot):
    times, events = [], None
    for i in range(runs):
        if not snapshot:
            with sqlite3.connect(os.path.join(data_dir, "orbitmesh.db")) as db:
                db.execute("DELETE FROM snapshots")
        p, _, seconds = start_hub(binary, work, data_dir, f"start-{'snap' if snapshot else 'nosnap'}-{i}")
        e2e.stop_process(p)
        times.append(seconds)
    return times


def run(binary, events, runs=3, keep=False):
    work = tempfile.mkdtemp(prefix="orbitmesh-replay-bench-")
    try:
        data_dir = fill(binary, work, events)
        verify = verify_runs(binary, data_dir, runs)
        n_events = verify[0][1]["events"]
        walls = [w for w, _ in verify]
        internal = [r["seconds"] for _, r in verify]
        with_snap = startup_runs(binary, work, data_dir, runs, True)
        without = startup_runs(binary, work, data_dir, runs, False)
        db_bytes = os.path.getsize(os.path.join(data_dir, "orbitmesh.db"))
        return {
            "events": n_events,
            "verify_events_per_second": n_events / median(walls),
            "verify_seconds": median(walls),
            "verify_seconds_inside": median(internal),
            "verify_runs": walls,
            "startup_snapshot_seconds": median(with_snap),
            "startup_snapshot_runs": with_snap,
            "startup_no_snapshot_seconds": median(without),
            "startup_no_snapshot_runs": without,
            "store_bytes": db_bytes,
            "jobs": max(1, events // 4),
        }
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orbitmesh-bin", required=True)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    r = run(os.path.abspath(args.orbitmesh_bin), args.events, args.runs)
    print(json.dumps({"metric": "replay", "config": {"events": r["events"], "runs": args.runs}, "result": r,
                      "commit": e2e.commit()}))
    print(f"replay: verify {r['verify_events_per_second']:,.0f} events/s over {r['events']:,} events; hub ready in "
          f"{r['startup_snapshot_seconds']:.2f} s with a snapshot, {r['startup_no_snapshot_seconds']:.2f} s without",
          file=sys.stderr)


if __name__ == "__main__":
    main()
