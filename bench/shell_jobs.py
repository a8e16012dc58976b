#!/usr/bin/python3
"""shell_jobs: `sh -c true` jobs through a real hub and agent, and the CPU each one costs.

Starts `serve` (127.0.0.1 port 0, --port-file, --durability normal, a temp data dir) and one
`agent --concurrency C`, submits N shell jobs in batches of 100 (POST /api/v1/jobs/batch) and
waits (GET /api/v1/stats) until all have ended. Reports jobs/s and the CPU time per job of the
agent and of everything it reaped (wait4 after SIGTERM: the job processes, their supervisors and
its fork server), which holds up on a loaded machine where jobs/s does not. With
--baseline-bin B it runs B the same way first (e.g. a build from before a change), alternating
--rounds times. Extra agent flags after `--`.

    /usr/bin/python3 bench/shell_jobs.py --orbitmesh-bin build/cli/orbitmesh --jobs 1000 -- --cgroups off

Prints one JSON object on stdout (or to --json FILE) and a summary line per run on stderr; stops
every process it started by its PID.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TERMINAL = ("succeeded", "failed", "timed_out", "cancelled", "dead")


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, json.loads(text) if text else None
    finally:
        conn.close()


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.02) + 2):
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    raise SystemExit(f"shell_jobs: error: timed out after {timeout}s waiting for {what}")


def one_run(binary, jobs, concurrency, agent_args):
    tmp = tempfile.mkdtemp(prefix="orbitmesh-shell-jobs-")
    port_file = os.path.join(tmp, "port")
    hub = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", tmp + "/hub",
                            "--port-file", port_file, "--durability", "normal"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    agent = None
    try:
        def port():
            try:
                text = open(port_file).read().strip()
            except OSError:
                return None
            return int(text) if text.isdigit() else None
        p = wait_for(port, 20, "the hub's port file")
        agent = subprocess.Popen([binary, "agent", "--server", f"http://127.0.0.1:{p}", "--name", "bench",
                                  "--data-dir", tmp + "/agent", "--concurrency", str(concurrency), *agent_args],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: any(a.get("state") == "connected" for a in request(p, "GET", "/api/v1/agents")[1]["agents"]),
                 20, "the agent to connect")
        t0 = time.monotonic()
        for i in range(0, jobs, 100):
            n = min(100, jobs - i)
            status, body = request(p, "POST", "/api/v1/jobs/batch",
                                   {"jobs": [{"command": "shell", "payload": "true"}] * n})
            if status not in (200, 201):
                raise SystemExit(f"shell_jobs: error: batch submit answered {status}: {body}")
        counts = {}

        def ended():
            counts.update(request(p, "GET", "/api/v1/stats")[1].get("jobs", {}))
            return sum(counts.get(k, 0) for k in TERMINAL) >= jobs
        wait_for(ended, 600, f"{jobs} jobs to end")
        seconds = time.monotonic() - t0
        agent.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(agent.pid, 0)
        agent.returncode = 0
        return {"jobs_per_second": round(jobs / seconds, 1),
                "cpu_us_per_job": round((usage.ru_utime + usage.ru_stime) * 1e6 / jobs, 1),
                "succeeded": counts.get("succeeded", 0)}
    finally:
        for proc in (agent, hub):
            if proc is not None and proc.poll() is None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orbitmesh-bin", default=os.environ.get("ORBITMESH_BIN"))
    ap.add_argument("--baseline-bin")
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", dest="json_file")
    ap.add_argument("agent_args", nargs="*", help="extra flags for the measured agent (after --)")
    args = ap.parse_args()
    if not args.orbitmesh_bin or not os.access(args.orbitmesh_bin, os.X_OK):
        ap.error("--orbitmesh-bin (or ORBITMESH_BIN) must name the orbitmesh binary")
    if args.jobs < 1 or args.concurrency < 1 or args.rounds < 1:
        ap.error("--jobs, --concurrency and --rounds must be at least 1")
    systems = ([("baseline", args.baseline_bin, [])] if args.baseline_bin else []) + \
        [("orbitmesh", args.orbitmesh_bin, args.agent_args)]
    runs = {name: [] for name, _, _ in systems}
    for _ in range(args.rounds):
        for name, binary, extra in systems:
            r = one_run(binary, args.jobs, args.concurrency, extra)
            runs[name].append(r)
            print(f"shell_jobs {name}: {args.jobs} x `sh -c true`, --concurrency {args.concurrency} "
                  f"{' '.join(extra)}: {r['jobs_per_second']:.0f} jobs/s, {r['cpu_us_per_job']:.0f} us CPU per job "
                  f"({r['succeeded']} succeeded)", file=sys.stderr, flush=True)
    best = min(runs["orbitmesh"], key=lambda r: r["cpu_us_per_job"])
    out = {"system": "orbitmesh", "name": "shell_jobs", "metric": "cpu_us_per_job",
           "value": best["cpu_us_per_job"], "unit": "us",
           "config": {"jobs": args.jobs, "concurrency": args.concurrency, "agent_args": args.agent_args,
                      "rounds": args.rounds},
           "machine": {"cores": os.cpu_count(), "loadavg": os.getloadavg()[0]},
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                    cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip(),
           "runs": runs}
    text = json.dumps(out) + "\n"
    if args.json_file:
        with open(args.json_file, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
