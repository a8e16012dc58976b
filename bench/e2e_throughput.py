#!/usr/bin/python3
"""End-to-end durable throughput (SPEC §11): no-op `echo` jobs, submit -> agent -> result
committed, hub with `--durability full`, two agents, many jobs in flight.

Usage:
  /usr/bin/python3 bench/e2e_throughput.py --orbitmesh-bin build/cli/orbitmesh \
      [--jobs 20000] [--submitters 8] [--batch 100 | --batch 0] [--concurrency 256] \
      [--durability full|normal] [--json FILE]

--batch N (default 100) posts `POST /api/v1/jobs/batch` with N jobs per call; --batch 0 posts
one job per `POST /api/v1/jobs`. When the batch endpoint is missing (404/405) the script falls
back to single posts and says so in the config.

The clock runs from the first submit until every job is terminal: request bodies are built
before it starts, and the end is found by polling `GET /api/v1/stats` (jobs per state) every
20 ms until none is pending, assigned or running (the bench is the hub's only client). After the clock,
no job may be failed/cancelled/timed_out/dead. Prints one JSON object on stdout (or to --json FILE) and one summary line on
stderr. Every process it starts is stopped by its PID.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TERMINAL = ("succeeded", "failed", "cancelled", "timed_out", "dead")


def store_stats(port):
    """The hub's writer counters (`GET /api/v1/stats`), or None for a hub without them."""
    c = Client(port, 10)
    try:
        status, body = c.request("GET", "/api/v1/stats")
        return body.get("store") if status == 200 and isinstance(body, dict) else None
    finally:
        c.close()


def store_delta(before, after, jobs):
    """Commits, events per commit and rows per job over the timed part."""
    if not before or not after:
        return None
    commits = after["commits"] - before["commits"]
    return {"commits": commits,
            "events_per_commit": round((after["events"] - before["events"]) / max(commits, 1), 1),
            "rows_per_job": round((after["rows"] - before["rows"]) / max(jobs, 1), 2),
            "commit_seconds": round(after["commit_seconds"] - before["commit_seconds"], 2)}


def stop_process(p):
    """SIGTERM, then SIGKILL after 5 s; only the process we started (by its PID)."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=5)


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port, timeout=60.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, retry=True):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data,
                                  headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                text = resp.read()
                if (resp.getheader("Connection") or "").lower() == "close":
                    self.close()
                return resp.status, (json.loads(text) if text else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                self.close()
                if attempt == 1 or not retry:
                    raise
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Procs:
    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = []

    def start(self, name, argv):
        log = open(os.path.join(self.log_dir, name + ".log"), "wb")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.procs):
            stop_process(p)

    def log_tail(self, name, n=3000):
        try:
            with open(os.path.join(self.log_dir, name + ".log"), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


def wait_until(fn, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        try:
            v = fn()
            if v:
                return v
        except Exception:  # noqa: BLE001
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise SystemExit(f"e2e_throughput: timed out waiting for {what}")


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds (from /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def machine():
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "mem": mem}


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=os.path.dirname(os.path.abspath(__file__)),
                              timeout=5).stdout.strip() or "unknown"
    except Exception:  # noqa: BLE001
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orbitmesh-bin", default=os.environ.get("ORBITMESH_BIN"))
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--submitters", type=int, default=8)
    ap.add_argument("--batch", type=int, default=100,
                    help="jobs per POST /api/v1/jobs/batch; 0 = one POST /api/v1/jobs per job")
    ap.add_argument("--concurrency", type=int, default=256,
                    help="slots per agent, i.e. jobs in flight per agent (a no-op job holds its "
                         "slot while the hub commits its assignment and the agent its outbox)")
    ap.add_argument("--agents", type=int, default=2)
    ap.add_argument("--durability", default="full", choices=["full", "normal"])
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--store", default=None, help="the hub's --store URL (default: SQLite in its data dir)")
    ap.add_argument("--json", dest="json_file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    if not args.orbitmesh_bin:
        ap.error("pass --orbitmesh-bin PATH or set ORBITMESH_BIN")
    binary = os.path.abspath(args.orbitmesh_bin)

    tmp = tempfile.mkdtemp(prefix="orbitmesh-bench-")
    procs = Procs(tmp)
    try:
        result = run(args, binary, tmp, procs)
    finally:
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(result)
    if args.json_file:
        with open(args.json_file, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    c = result["config"]
    print(f"e2e_throughput{' (' + c['store'] + ')' if c.get('store') else ''}: {result['value']:.0f} jobs/s ({c['jobs']} echo jobs, "
          f"{c['agents']} agents x {c['concurrency']}, durability {c['durability']}, "
          f"{c['submit']} by {c['submitters']} submitters; "
          f"submit phase {result['extra']['submit_seconds']:.2f}s, "
          f"total {result['extra']['total_seconds']:.2f}s)", file=sys.stderr)


def run(args, binary, tmp, procs):
    port_file = os.path.join(tmp, "port")
    hub = procs.start("hub", [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                              os.path.join(tmp, "hub"), "--port-file", port_file,
                              "--durability", args.durability,
                              "--max-pending", str(max(100000, args.jobs * 2)),
                              *(["--store", args.store] if getattr(args, "store", None) else [])])

    def read_port():
        if hub.poll() is not None:
            raise SystemExit(f"hub exited {hub.returncode}:\n{procs.log_tail('hub')}")
        with open(port_file) as f:
            t = f.read().strip()
        return int(t) if t.isdigit() else None

    port = wait_until(read_port, 20, "the hub's port file")
    wait_until(lambda: Client(port, 2).request("GET", "/healthz")[0] == 200, 20, "/healthz")
    for i in range(args.agents):
        procs.start(f"agent{i}", [binary, "agent", "--server", f"http://127.0.0.1:{port}",
                                  "--name", f"bench-{i}", "--data-dir",
                                  os.path.join(tmp, f"agent{i}"),
                                  "--concurrency", str(args.concurrency)])

    def agents_up():
        status, body = Client(port, 5).request("GET", "/api/v1/agents")
        agents = body["agents"] if isinstance(body, dict) else body
        return sum(1 for a in agents if a.get("state") == "connected") >= args.agents

    wait_until(agents_up, 30, "agents connected")

    mode = "batch" if args.batch > 0 else "single"
    if mode == "batch":
        status, _ = Client(port).request("POST", "/api/v1/jobs/batch",
                                         {"jobs": [{"command": "echo", "payload": "probe"}]})
        if status in (404, 405):
            mode = "single"

    def bodies_for(prefix, n):
        """Request bodies, serialized before the clock starts: one list per submitter."""
        per = [list(range(s, n, args.submitters)) for s in range(args.submitters)]
        out = []
        for mine in per:
            if mode == "batch":
                out.append([json.dumps({"jobs": [{"command": "echo", "payload": f"{prefix}{i}"}
                                                 for i in mine[k:k + args.batch]]}).encode()
                            for k in range(0, len(mine), args.batch)])
            else:
                out.append([json.dumps({"command": "echo", "payload": f"{prefix}{i}"}).encode()
                            for i in mine])
        return out

    def submit_all(bodies):
        path = "/api/v1/jobs/batch" if mode == "batch" else "/api/v1/jobs"

        def worker(mine):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                for body in mine:
                    conn.request("POST", path, body=body,
                                 headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    text = resp.read()
                    if resp.status != 201:
                        raise RuntimeError(f"POST {path} -> {resp.status} {text[:300]!r}")
            finally:
                conn.close()

        with concurrent.futures.ThreadPoolExecutor(args.submitters) as pool:
            for f in [pool.submit(worker, b) for b in bodies]:
                f.result()

    def open_jobs(c):
        """Jobs not yet ended: one `GET /api/v1/stats` (per-state counts the hub keeps as it
        goes); hubs without it are asked `GET /api/v1/jobs?state=S&limit=1` per open state."""
        status, body = c.request("GET", "/api/v1/stats")
        if status == 200:
            return sum(body["jobs"][s] for s in ("pending", "assigned", "running"))
        n = 0
        for state in ("pending", "assigned", "running"):
            status, body = c.request("GET", f"/api/v1/jobs?state={state}&limit=1")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/jobs?state={state} -> {status} {body}")
            n += len(body["jobs"] if isinstance(body, dict) else body)
        return n

    def wait_all_terminal(deadline):
        """Polls (sparingly: one tiny request every 20 ms) until nothing is pending, assigned or
        running; the bench is the only client, so then every job has ended."""
        c = Client(port, 30)
        try:
            for _ in range(10 ** 6):
                if not open_jobs(c):
                    return time.monotonic()
                if time.monotonic() > deadline:
                    raise SystemExit("e2e_throughput: deadline passed with jobs still open")
                time.sleep(0.02)
        finally:
            c.close()

    # warm-up
    if args.warmup:
        submit_all(bodies_for("warm-", args.warmup))
        wait_all_terminal(time.monotonic() + 120)

    bodies = bodies_for("job-", args.jobs)
    cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.procs}
    client_before = os.times()
    store_before = store_stats(port)
    t0 = time.monotonic()
    submit_all(bodies)
    t_submitted = time.monotonic()
    t_end = wait_all_terminal(t0 + args.timeout)
    cpu = {}
    for name, p in procs.procs:
        after = cpu_seconds(p.pid)
        if after is not None and cpu_before.get(name) is not None:
            cpu[name] = round(after - cpu_before[name], 2)
    store_after = store_stats(port)
    client_after = os.times()  # this script's submitters and poller share the machine too
    cpu["bench_client"] = round(client_after.user + client_after.system
                                - client_before.user - client_before.system, 2)
    c = Client(port, 120)
    bad = {}
    for s in ("failed", "cancelled", "timed_out", "dead"):  # from the job list, not from the counters
        status, body = c.request("GET", f"/api/v1/jobs?state={s}&limit=1")
        bad[s] = len(body["jobs"] if isinstance(body, dict) else body) if status == 200 else f"HTTP {status}"
    status, body = c.request("GET", f"/api/v1/jobs?state=succeeded&limit={args.jobs + args.warmup}")
    c.close()
    succeeded = len(body["jobs"] if isinstance(body, dict) else body)
    if any(bad.values()):
        raise SystemExit(f"e2e_throughput: some jobs did not succeed: {bad}")
    states = {"succeeded": succeeded}
    if succeeded < args.jobs + args.warmup:
        print(f"e2e_throughput: warning: the succeeded list has {succeeded} of "
              f"{args.jobs + args.warmup} jobs (a capped limit?)", file=sys.stderr)
    elapsed = t_end - t0
    return {
        "system": "orbitmesh", "name": "e2e_throughput", "metric": "e2e_throughput",
        "value": round(args.jobs / elapsed, 1), "unit": "jobs/s",
        "config": {"store": "postgres" if getattr(args, "store", None) else "sqlite", "jobs": args.jobs, "warmup": args.warmup, "submit": mode,
                   "batch": args.batch if mode == "batch" else 1,
                   "submitters": args.submitters, "agents": args.agents,
                   "concurrency": args.concurrency, "durability": args.durability},
        "machine": machine(), "commit": commit(),
        "extra": {"submit_seconds": round(t_submitted - t0, 3),
                  "total_seconds": round(elapsed, 3), "states": states,
                  "cpu_seconds": cpu, "store": store_delta(store_before, store_after, args.jobs)},
    }


if __name__ == "__main__":
    main()
