#!/usr/bin/python3
"""Makes a golden event log from real runs of today's build (issue 9: every future build must
replay it to the same state).

    /usr/bin/python3 tests/data/golden/make_golden.py --orbitmesh-bin build/cli/orbitmesh NAME

writes tests/data/golden/NAME/:
  orbitmesh.db    the store a real hub left (events, projections, snapshot), vacuumed
  events.ndjson   every event, one per line, its data as JSON (for people and diffs)
  expected.json   what today's build replays from it: the summary and the state of every job,
                  run and agent

Golden logs are never regenerated in place: a later build that changes an event schema adds an
upcaster and a new golden set, and the old sets keep being replayed (tests/e2e/test_golden_logs.py).
Every process started here is stopped by its PID; every wait has a deadline.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "e2e"))
sys.dont_write_bytecode = True

from e2e_helpers import FAST_RECONNECT, Mesh, ProcessRegistry, wait_until  # noqa: E402

DONE = ("succeeded", "failed", "cancelled", "timed_out", "dead")


def workflow(mesh, name, text):
    path = mesh.path(name + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text).lstrip())
    return path


def start_run(mesh, hub, path, *args):
    rc, out, err = mesh.cli("run", path, "--detach", *args, hub=hub)
    if rc != 0:
        raise SystemExit(f"run {path}: {err}")
    return out.strip()


def wait_run(hub, run_id, states=("succeeded", "failed", "cancelled", "timed_out")):
    def done():
        status, body = hub.get(f"/api/v1/runs/{run_id}?wait=2s", timeout=10)
        return body if status == 200 and body["state"] in states else None
    return wait_until(done, 60, f"run {run_id}", interval=0.2)


def jobs_scenario(mesh, hub, registry, spare):
    """Jobs that end every way a job can, with retries, reassignment and a `job retry`."""
    for i in range(4):
        hub.wait_job(hub.submit({"command": "echo", "payload": {"n": i, "text": "héllo \"quoted\""}})["id"])
    hub.wait_job(hub.submit({"command": "shell", "payload": "echo out; echo err >&2", "priority": 5,
                             "target": {"tags": {"zone": "eu"}}})["id"])
    dead = hub.submit({"command": "shell", "payload": "exit 3", "retries": {"max": 1, "backoff": "100ms"}})
    failed = hub.submit({"command": "exec", "payload": ["sh", "-c", "exit 2"]})
    timed = hub.submit({"command": "shell", "payload": "sleep 30", "timeout": "1s"})
    fire = hub.submit({"command": "echo", "payload": "fire", "mode": "fire_and_forget"})
    keyed = hub.submit({"command": "echo", "payload": "once", "idempotency_key": "golden-key"})
    again = hub.submit({"command": "echo", "payload": "twice?", "idempotency_key": "golden-key"})
    assert again["id"] == keyed["id"]
    running = hub.submit({"command": "shell", "payload": "sleep 30"})
    wait_until(lambda: hub.job(running["id"])["state"] == "running", 20, "a job running to cancel")
    hub.post(f"/api/v1/jobs/{running['id']}/cancel", {"reason": "golden"})
    queued = hub.submit({"command": "echo", "payload": "never", "target": {"capabilities": ["nobody"]}})
    hub.post(f"/api/v1/jobs/{queued['id']}/cancel", {})
    for j in (dead, failed, timed, fire, keyed, running, queued):
        hub.wait_job(j["id"], timeout=60)
    hub.post(f"/api/v1/jobs/{failed['id']}/retry", {})
    hub.wait_job(failed["id"], timeout=30)
    # agent loss: a job on the spare agent, which is killed; the job moves to another agent
    lost = hub.submit({"command": "shell", "payload": "sleep 3; echo moved", "target": {"agent": "spare"}})
    wait_until(lambda: hub.job(lost["id"])["state"] == "running", 20, "the spare agent's job")
    registry.kill9(spare.proc)
    wait_until(lambda: hub.job(lost["id"])["state"] == "pending", 30, "the job back in the queue")
    hub.post(f"/api/v1/jobs/{lost['id']}/cancel", {"reason": "its agent is gone"})
    hub.wait_job(lost["id"], timeout=30)


def runs_scenario(mesh, hub):
    """Workflows through every kind of step: DAG, foreach, parallel, transform, approval,
    sub_workflow, a failure with compensations, a rerun."""
    child = workflow(mesh, "child", """
        id: golden-child
        steps:
          - id: hello
            command: echo
            payload: from the child
    """)
    rc, out, err = mesh.cli("workflow", "register", child, hub=hub)
    if rc != 0:
        raise SystemExit(err)
    main = workflow(mesh, "main", """
        id: golden-main
        version: "1"
        inputs:
          items: {type: array, default: [a, b, c]}
        steps:
          - id: fetch
            run: echo fetched
            output_variable: fetched
          - id: each
            type: foreach
            needs: [fetch]
            collection: inputs.items
            steps:
              - id: work
                command: echo
                payload: ${{ item }}
          - id: both
            type: parallel
            needs: [fetch]
            branches:
              - id: left
                run: echo left
              - id: right
                run: echo right
          - id: gate
            type: approval
            needs: [each, both]
            message: go on?
          - id: sub
            type: sub_workflow
            needs: [gate]
            workflow_id: golden-child
          - id: report
            type: transform
            needs: [sub]
            expression: "{items: len(inputs.items), fetched: vars.fetched}"
    """)
    run_id = start_run(mesh, hub, main)

    def waiting():
        status, body = hub.get(f"/api/v1/runs/{run_id}")
        return any(s["id"] == "gate" and s["state"] == "waiting" for s in body.get("steps", []))
    wait_until(waiting, 60, "the approval step to wait", interval=0.2)
    rc, out, err = mesh.cli("workflow", "approve", run_id, "--step", "gate", "--approver", "golden", hub=hub)
    if rc != 0:
        raise SystemExit(err)
    assert wait_run(hub, run_id)["state"] == "succeeded"
    saga = workflow(mesh, "saga", """
        id: golden-saga
        steps:
          - id: reserve
            run: echo reserved
            compensation:
              run: echo released
          - id: charge
            needs: [reserve]
            run: echo charged
            compensation:
              command: echo
              payload: refunded
          - id: ship
            needs: [charge]
            run: exit 1
            retry: {max: 1, delay: 100ms}
    """)
    saga_id = start_run(mesh, hub, saga, "--idempotency-key", "golden-saga-1")
    assert wait_run(hub, saga_id)["state"] == "failed"
    status, rerun = hub.post(f"/api/v1/runs/{saga_id}/rerun", {"from": "ship"})
    assert status == 201, rerun
    wait_run(hub, rerun["id"])


def export(db_path, out_dir, binary, env):
    with sqlite3.connect(db_path) as db:
        db.execute("VACUUM")
    shutil.copy(db_path, os.path.join(out_dir, "orbitmesh.db"))
    data_dir = out_dir
    with open(os.path.join(out_dir, "events.ndjson"), "w", encoding="utf-8") as f:
        cp = subprocess.run([binary, "replay", "--data-dir", data_dir, "-o", "json"], capture_output=True,
                            text=True, env=env, timeout=60, check=True)
        summary = json.loads(cp.stdout)
        db = sqlite3.connect(os.path.join(out_dir, "orbitmesh.db"))
        streams = [r[0] for r in db.execute("SELECT DISTINCT stream FROM events ORDER BY stream")]
        ids = [r[0] for r in db.execute("SELECT id FROM jobs ORDER BY id")]
        runs = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id")]
        agents = [r[0] for r in db.execute("SELECT id FROM agents ORDER BY id")]
        workflows = [s[9:] for s in streams if s.startswith("workflow-")]
        db.close()
        expected = {"summary": {k: v for k, v in summary.items() if k != "store"}, "jobs": {}, "runs": {}, "agents": {},
                    "workflows": {}}
        events = {}
        for kind, names in (("jobs", ids), ("runs", runs), ("agents", agents), ("workflows", workflows)):
            for name in names:
                cp = subprocess.run([binary, "replay", name, "--data-dir", data_dir, "-o", "json"], capture_output=True,
                                    text=True, env=env, timeout=60, check=True)
                t = json.loads(cp.stdout)
                expected[kind][name] = t["state"]
                for e in t["events"]:
                    events[e["seq"]] = e
        for seq in sorted(events):
            e = events[seq]
            f.write(json.dumps({k: e[k] for k in ("seq", "time", "stream", "version", "type", "data")},
                               sort_keys=True, ensure_ascii=False) + "\n")
        assert len(events) == summary["events"], f"{len(events)} events exported of {summary['events']} ({streams})"
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    for leftover in ("orbitmesh.db-wal", "orbitmesh.db-shm"):  # from the readers above
        if os.path.exists(os.path.join(out_dir, leftover)):
            os.unlink(os.path.join(out_dir, leftover))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orbitmesh-bin", required=True)
    ap.add_argument("name")
    args = ap.parse_args()
    binary = os.path.abspath(args.orbitmesh_bin)
    out_dir = os.path.join(HERE, args.name)
    if os.path.exists(out_dir):
        raise SystemExit(f"{out_dir} exists: golden logs are never regenerated in place")
    tmp = tempfile.mkdtemp(prefix="orbitmesh-golden-")
    registry = ProcessRegistry(tmp)
    mesh = Mesh(binary, tmp, registry)
    try:
        hub = mesh.start_hub(args=["--heartbeat", "1s", "--reassign-after", "1s"])
        mesh.start_agent(hub, "w1", concurrency=4, tags={"zone": "eu"}, args=FAST_RECONNECT)
        mesh.start_agent(hub, "w2", concurrency=2, capabilities=["build"], args=FAST_RECONNECT)
        spare = mesh.start_agent(hub, "spare", concurrency=1, args=FAST_RECONNECT)
        jobs_scenario(mesh, hub, registry, spare)
        runs_scenario(mesh, hub)
        time.sleep(0.5)
        registry.stop_all()  # agents, then the hub: a clean stop writes the final snapshot
        os.makedirs(out_dir)
        export(hub.db_path, out_dir, binary, mesh.base_env())
        print(f"golden log written to {out_dir}")
    finally:
        registry.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
