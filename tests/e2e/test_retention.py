"""Finished jobs and runs leave the hub's memory (--retain-jobs, --retain-runs) but every route that
reads an old one still answers, from the projection tables and the log; snapshots keep the counts
and let a restart fold only the tail."""

import json
import re

import pytest

from e2e_helpers import wait_until
from workflow_helpers import wait_run, write_wf

RETAIN = ["--retain-jobs", "3", "--retain-runs", "1"]


@pytest.mark.deadline(120)
def test_every_route_still_answers_for_jobs_that_left_memory(mesh, registry):
    hub = mesh.start_hub(args=RETAIN)
    mesh.start_agent(hub, "w1", concurrency=2)
    first = hub.submit({"command": "shell", "payload": "echo first-line; exit 4", "idempotency_key": "old-key"})
    assert hub.wait_job(first["id"])["state"] == "failed"
    for i in range(8):
        hub.wait_job(hub.submit({"command": "echo", "payload": i})["id"])

    got = hub.job(first["id"])  # read back from its row
    assert got["state"] == "failed" and got["exit_code"] == 4
    status, logs = hub.get(f"/api/v1/jobs/{first['id']}/logs")
    assert status == 200 and [l["data"] for l in logs["lines"]] == ["first-line"] and logs["done"]
    listed = [j["id"] for j in hub.jobs(limit=100)]
    assert len(listed) == 9 and listed[-1] == first["id"], listed  # newest first, the old ones included
    failed = [j["id"] for j in hub.jobs(limit=100, state="failed")]
    assert failed == [first["id"]]
    status, body = hub.post(f"/api/v1/jobs/{first['id']}/cancel", {})
    assert status == 409 and "already ended" in body["message"]
    status, again = hub.post("/api/v1/jobs", {"command": "echo", "payload": "x", "idempotency_key": "old-key"})
    assert status == 200 and again["id"] == first["id"], again  # the key still finds it
    status, stats = hub.get("/api/v1/stats")
    assert stats["jobs"]["total"] == 9 and stats["jobs"]["succeeded"] == 8 and stats["jobs"]["failed"] == 1
    status, retried = hub.post(f"/api/v1/jobs/{first['id']}/retry", {})
    assert status == 200, retried
    assert hub.wait_job(first["id"])["state"] == "failed" and hub.job(first["id"])["attempt"] == 2

    # a restart starts from the snapshot the clean stop wrote: same answers, counts over all jobs
    registry.stop(hub.proc)
    hub2 = mesh.restart_hub(hub)
    log = hub2.proc.log_tail()
    assert re.search(r"snapshot at seq \d+", log), log
    assert hub2.job(first["id"])["attempt"] == 2
    status, stats = hub2.get("/api/v1/stats")
    assert stats["jobs"]["total"] == 9
    assert len(hub2.jobs(limit=100)) == 9


@pytest.mark.deadline(150)
def test_every_route_still_answers_for_runs_that_left_memory(mesh, registry):
    hub = mesh.start_hub(args=RETAIN)
    mesh.start_agent(hub, "w1", concurrency=2)
    path = write_wf(mesh, "pair", """
        id: pair
        steps:
          - id: one
            run: echo one
          - id: two
            needs: [one]
            run: echo two
    """)
    runs = []
    for i in range(3):
        rc, out, err = mesh.cli("run", path, "--detach", "--idempotency-key", f"run-{i}", hub=hub)
        assert rc == 0, err
        runs.append(out.strip())
        assert wait_run(hub, runs[-1])["state"] == "succeeded"
    old = runs[0]
    status, rec = hub.get(f"/api/v1/runs/{old}")
    assert status == 200 and rec["state"] == "succeeded" and [s["id"] for s in rec["steps"]] == ["one", "two"]
    status, feed = hub.get(f"/api/v1/runs/{old}/events")
    assert status == 200 and feed["done"] and any(e["type"] == "run.finished" for e in feed["events"])
    status, listed = hub.get("/api/v1/runs?limit=10")
    assert [r["id"] for r in listed["runs"]] == list(reversed(runs))
    status, stats = hub.get("/api/v1/stats")
    assert stats["runs"]["succeeded"] == 3
    rc, out, err = mesh.cli("run", path, "--detach", "--idempotency-key", "run-0", hub=hub)
    assert rc == 0 and out.strip() == old, (out, err)  # an old run's key still finds it
    status, rerun = hub.post(f"/api/v1/runs/{old}/rerun", {"from": "two"})
    assert status == 201, rerun
    again = wait_run(hub, rerun["id"])
    assert again["state"] == "succeeded"
    registry.stop(hub.proc)
    rc, out, err = mesh.cli("replay", "--verify", "--data-dir", hub.data_dir)
    assert rc == 0, f"{out}\n{err}"
    hub2 = mesh.restart_hub(hub)
    status, rec = hub2.get(f"/api/v1/runs/{old}")
    assert status == 200 and rec["state"] == "succeeded"
    status, stats = hub2.get("/api/v1/stats")
    assert stats["runs"]["succeeded"] == 4, stats["runs"]


@pytest.mark.deadline(90)
def test_a_restart_from_a_snapshot_folds_only_the_tail(mesh, registry):
    hub = mesh.start_hub(args=["--snapshot-every", "50"])
    mesh.start_agent(hub, "w1", concurrency=8)
    ids = [hub.submit({"command": "echo", "payload": i})["id"] for i in range(40)]
    for i in ids:
        hub.wait_job(i)
    status, summary = hub.get("/api/v1/replay", timeout=30)
    assert status == 200 and summary["snapshots"], summary  # --snapshot-every took one while running
    pending = hub.submit({"command": "echo", "payload": "late", "target": {"capabilities": ["nobody-has-this"]}})
    registry.kill9(hub.proc)  # after the last periodic snapshot: the tail has events
    hub2 = mesh.restart_hub(hub, args=[])
    log = hub2.proc.log_tail()
    m = re.search(r"from (\d+) events after the snapshot at seq (\d+)", log)
    assert m, log
    assert 0 < int(m.group(1)) < 170, log  # 40 jobs x 4 events + agent events: only the tail was folded
    assert hub2.job(pending["id"])["state"] == "pending"
    assert all(hub2.job(i)["state"] == "succeeded" for i in ids)
    rc, out, err = mesh.cli("replay", "--verify", "--data-dir", hub.data_dir)
    assert rc == 0, f"{out}\n{err}"
