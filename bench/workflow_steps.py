#!/usr/bin/python3
"""Durable workflow steps per second (SPEC §11: >= 10,000): many concurrent runs of a workflow
of independent `echo` steps on a hub with two agents; the clock runs from the first
`POST /api/v1/runs` until every run has ended, and every run must have succeeded.

Used by `bench/run` (scenario `workflow`); standalone:
  /usr/bin/python3 bench/workflow_steps.py --port PORT [--runs 2000] [--steps 10]
against a hub that already has agents.
"""

import argparse
import concurrent.futures
import json
import sys
import time

import e2e_throughput as e2e

WORKFLOW_ID = "bench-steps"


def workflow_source(steps):
    body = "\n".join(f"  - id: s{i}\n    command: echo\n    payload: \"{i}\"" for i in range(steps))
    return f"id: {WORKFLOW_ID}\nname: bench steps\nsteps:\n{body}\n"


def run(port, runs, steps, starters=8, timeout=300.0):
    c = e2e.Client(port, 60)
    try:
        status, body = c.request("POST", "/api/v1/workflows",
                                 {"source": workflow_source(steps), "file": "bench-steps.yaml"})
        if status not in (200, 201):
            raise RuntimeError(f"registering the workflow -> {status} {body}")

        def start(_):
            cc = e2e.Client(port, 60)
            try:
                s, b = cc.request("POST", "/api/v1/runs", {"workflow_id": WORKFLOW_ID, "inputs": {}})
                if s != 201:
                    raise RuntimeError(f"POST /api/v1/runs -> {s} {b}")
                return b["id"]
            finally:
                cc.close()

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(starters) as pool:
            ids = list(pool.map(start, range(runs)))
        t_started = time.monotonic()
        deadline = t0 + timeout
        for rid in ids:
            for _ in range(1000):
                s, b = c.request("GET", f"/api/v1/runs/{rid}?wait=30s")
                if s == 200 and b["state"] in ("succeeded", "failed", "cancelled", "timed_out"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"run {rid} still {b.get('state')} after {timeout:.0f}s")
            if b["state"] != "succeeded":
                raise RuntimeError(f"run {rid} ended {b['state']}")
        t_end = time.monotonic()
    finally:
        c.close()
    return {"steps_per_second": round(runs * steps / (t_end - t0), 1),
            "config": {"runs": runs, "steps_per_run": steps, "step": "echo (a durable job each)",
                       "starters": starters, "start_seconds": round(t_started - t0, 2),
                       "total_seconds": round(t_end - t0, 2)}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    r = run(a.port, a.runs, a.steps)
    print(json.dumps(r))
    print(f"workflow_steps: {r['steps_per_second']:.0f} steps/s ({a.runs} runs x {a.steps} steps)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
