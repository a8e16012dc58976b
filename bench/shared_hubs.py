#!/usr/bin/python3
"""Throughput of 1, 2 and 3 active hubs on one PostgreSQL (`serve --shared-store`, SPEC §10):
no-op `echo` jobs, durable (`--durability full`), two agents per hub, jobs posted round-robin
over the hubs in batches of 100 by 8 submitters, the clock from the first submit until every hub
sees every job ended. A real PostgreSQL from a temp dir (tests/e2e/pg_server.py), a fresh
database per hub count.

Usage:
  /usr/bin/python3 bench/shared_hubs.py --orbitmesh-bin build/cli/orbitmesh [--jobs 5000] \
      [--hubs 1,2,3] [--json FILE]

Prints one JSON object per hub count (a list) on stdout (or to --json FILE) and a one-line
summary on stderr. Every process it starts is stopped by its PID.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import e2e_throughput as e2e  # noqa: E402


def start_hub(binary, tmp, procs, url, i, jobs):
    port_file = os.path.join(tmp, f"port{i}")
    p = procs.start(f"hub{i}", [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(tmp, f"hub{i}"),
                                "--port-file", port_file, "--durability", "full", "--store", url, "--shared-store",
                                "--hub-id", f"bench-{i}", "--max-pending", str(max(100000, jobs * 2))])

    def read_port():
        if p.poll() is not None:
            raise SystemExit(f"hub{i} exited {p.returncode}:\n{procs.log_tail(f'hub{i}')}")
        try:
            with open(port_file) as f:
                t = f.read().strip()
        except FileNotFoundError:
            return None
        return int(t) if t.isdigit() else None

    port = e2e.wait_until(read_port, 60, f"hub{i}'s port file")
    e2e.wait_until(lambda: e2e.Client(port, 2).request("GET", "/healthz")[0] == 200, 20, "/healthz")
    return p, port


def open_jobs(port):
    status, body = e2e.Client(port, 30).request("GET", "/api/v1/stats")
    if status != 200:
        raise SystemExit(f"GET /api/v1/stats -> {status}")
    return sum(body["jobs"][s] for s in ("pending", "assigned", "running")), body["jobs"]


def run_once(binary, tmp, url, hubs, jobs, agents_per_hub=2, concurrency=128, submitters=8, batch=100):
    procs = e2e.Procs(tmp)
    try:
        ports = [start_hub(binary, tmp, procs, url, i, jobs)[1] for i in range(hubs)]
        for i, port in enumerate(ports):
            for k in range(agents_per_hub):
                procs.start(f"agent{i}{k}", [binary, "agent", "--server", f"http://127.0.0.1:{port}", "--name",
                                             f"bench-{i}-{k}", "--data-dir", os.path.join(tmp, f"agent{i}{k}"),
                                             "--concurrency", str(concurrency)])

        def agents_up():
            status, body = e2e.Client(ports[0], 5).request("GET", "/api/v1/agents")
            agents = body["agents"] if isinstance(body, dict) else body
            return sum(1 for a in agents if a.get("state") == "connected") >= hubs * agents_per_hub
        e2e.wait_until(agents_up, 30, "every agent connected (seen from hub 0)")

        # Bodies built before the clock: batches dealt round-robin over the hubs and submitters.
        chunks = [json.dumps({"jobs": [{"command": "echo", "payload": f"j{i}"}
                                       for i in range(k, min(jobs, k + batch))]}).encode()
                  for k in range(0, jobs, batch)]
        work = [[] for _ in range(submitters)]
        for n, body in enumerate(chunks):
            work[n % submitters].append((ports[n % hubs], body))

        def worker(mine):
            conns = {}
            try:
                for port, body in mine:
                    c = conns.setdefault(port, http.client.HTTPConnection("127.0.0.1", port, timeout=120))
                    c.request("POST", "/api/v1/jobs/batch", body=body, headers={"Content-Type": "application/json"})
                    resp = c.getresponse()
                    text = resp.read()
                    if resp.status != 201:
                        raise RuntimeError(f"POST /api/v1/jobs/batch on :{port} -> {resp.status} {text[:200]!r}")
            finally:
                for c in conns.values():
                    c.close()

        cpu_before = {name: e2e.cpu_seconds(p.pid) for name, p in procs.procs}
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(submitters) as pool:
            for f in [pool.submit(worker, w) for w in work]:
                f.result()
        t_submitted = time.monotonic()
        deadline = t0 + 600
        counts = {}
        while True:
            left = [open_jobs(p) for p in ports]
            counts = left[0][1]
            if all(n == 0 for n, c in left) and all(c["succeeded"] >= jobs for _, c in left):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"shared_hubs: deadline passed, {left}")
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        cpu = {}
        for name, p in procs.procs:
            after = e2e.cpu_seconds(p.pid)
            if after is not None and cpu_before.get(name) is not None:
                cpu[name] = round(after - cpu_before[name], 2)
        bad = {s: counts.get(s, 0) for s in ("failed", "cancelled", "timed_out", "dead") if counts.get(s)}
        if bad:
            raise SystemExit(f"shared_hubs: some jobs did not succeed: {bad}")
        return {"system": "orbitmesh", "name": f"shared_store_throughput_{hubs}hub",
                "metric": "shared_store_throughput", "value": round(jobs / elapsed, 1), "unit": "jobs/s",
                "config": {"store": "postgres", "shared": True, "hubs": hubs, "jobs": jobs,
                           "agents": hubs * agents_per_hub, "concurrency": concurrency, "batch": batch,
                           "submitters": submitters, "durability": "full"},
                "extra": {"submit_seconds": round(t_submitted - t0, 3), "total_seconds": round(elapsed, 3),
                          "cpu_seconds": cpu},
                "machine": e2e.machine(), "commit": e2e.commit()}
    finally:
        procs.stop_all()


def run(binary, tmp, jobs, hub_counts):
    import pg_server  # noqa: E402
    bindir = pg_server.pg_bindir()
    if bindir is None:
        raise SystemExit("shared_hubs: PostgreSQL is not installed (scripts/install-deps.sh)")
    server = pg_server.PostgresServer(bindir).start()
    rows = []
    try:
        for n in hub_counts:
            d = os.path.join(tmp, f"hubs-{n}")
            os.makedirs(d)
            rows.append(run_once(binary, d, server.create_database("bench"), n, jobs))
    finally:
        server.stop()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orbitmesh-bin", default=os.environ.get("ORBITMESH_BIN"))
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--hubs", default="1,2,3")
    ap.add_argument("--json", dest="json_file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    binary = args.orbitmesh_bin or os.path.join(REPO, "build", "cli", "orbitmesh")
    tmp = tempfile.mkdtemp(prefix="orbitmesh-shared-bench-")
    try:
        rows = run(binary, tmp, args.jobs, [int(x) for x in args.hubs.split(",")])
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(rows, indent=2)
    if args.json_file:
        with open(args.json_file, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    print("shared_hubs: " + ", ".join(f"{r['config']['hubs']} hub(s) {r['value']} jobs/s" for r in rows) +
          f" ({args.jobs} echo jobs, durable, PostgreSQL shared store)", file=sys.stderr)


if __name__ == "__main__":
    main()
