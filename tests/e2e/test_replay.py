"""`orbitmesh replay` (SPEC §1, §5): timelines of jobs, runs and agents offline and through the hub,
`--until`, `--verify` (passing on a real store, naming hand edits), `--export chrome-trace`."""

import json
import os
import shutil
import sqlite3
import time

import pytest

from e2e_helpers import FAST_RECONNECT, assert_one_error_line, wait_until
from workflow_helpers import wait_run, write_wf


def replay(mesh, *args, hub=None):
    rc, out, err = mesh.cli("replay", *args, hub=hub)
    return rc, out, err


def replay_json(mesh, *args, hub=None):
    rc, out, err = replay(mesh, *args, "-o", "json", hub=hub)
    assert rc == 0, f"replay {args}: rc {rc}: {err}"
    return json.loads(out)


def submit_wait(hub, spec):
    rec = hub.submit(spec)
    return hub.wait_job(rec["id"], timeout=30)


@pytest.mark.deadline(90)
def test_a_job_timeline_reads_the_same_offline_beside_the_hub_and_through_it(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1", concurrency=2)
    done = submit_wait(hub, {"command": "shell", "payload": "exit 3", "retries": {"max": 1, "backoff": "100ms"}})
    assert done["state"] == "dead"
    ok = submit_wait(hub, {"command": "echo", "payload": "hello"})

    # offline, while the hub still runs on the same data dir (WAL readers)
    offline = replay_json(mesh, done["id"], "--data-dir", hub.data_dir)
    assert offline["kind"] == "job"
    types = [e["type"] for e in offline["events"]]
    assert types == ["job.submitted", "job.assigned", "job.started", "job.retry_scheduled",
                     "job.assigned", "job.started", "job.dead"], types
    assert offline["state"]["state"] == "dead" and offline["state"]["attempt"] == 2
    through = replay_json(mesh, done["id"], hub=hub)
    assert through["events"] == offline["events"] and through["state"] == offline["state"]

    rc, out, err = replay(mesh, ok["id"], "--data-dir", hub.data_dir)
    assert rc == 0, err
    assert "job.finished" in out and "attempt 1 succeeded" in out, out

    # the log as a whole
    summary = replay_json(mesh, "--data-dir", hub.data_dir)
    assert summary["streams"]["job"]["streams"] == 2
    assert summary["jobs"] == {"dead": 1, "succeeded": 1}
    assert summary["refused_events"] == 0
    assert replay_json(mesh, hub=hub)["events"] >= summary["events"]

    # an agent, by name: its connection and every attempt it was given
    agent = replay_json(mesh, "w1", "--data-dir", hub.data_dir)
    assert agent["kind"] == "agent" and agent["state"]["name"] == "w1"
    assert sum(1 for e in agent["events"] if e["type"] == "job.assigned") == 3


@pytest.mark.deadline(120)
def test_verify_passes_on_a_real_store_and_names_each_hand_edit(mesh, registry):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1", concurrency=4)
    ids = [submit_wait(hub, {"command": "echo", "payload": f"p{i}", "idempotency_key": f"k{i}"})["id"]
           for i in range(6)]
    status, body = hub.get("/api/v1/verify", timeout=60)
    assert status == 200 and body["ok"], body
    registry.stop(hub.proc)

    rc, out, err = replay(mesh, "--verify", "--data-dir", hub.data_dir)
    assert rc == 0, f"rc {rc}\n{out}\n{err}"
    assert out.strip().splitlines()[-1].startswith("verified ")
    assert "the store matches its events" in out and "snapshot at seq" in out, out

    edited = mesh.path("edited")
    shutil.copytree(hub.data_dir, edited)
    db = sqlite3.connect(os.path.join(edited, "orbitmesh.db"))
    db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (ids[1],))
    db.execute("DELETE FROM jobs WHERE id = ?", (ids[3],))
    db.commit()
    db.close()
    rc, out, err = replay(mesh, "--verify", "--data-dir", edited)
    line = assert_one_error_line(rc, out, err, 1, "replay --verify (edited)")
    assert "2 difference(s)" in line, line
    rows = [l.split() for l in out.splitlines()]
    assert ["job", ids[1], "state", "running", "succeeded"] in rows, out
    assert ["job", ids[3], "row", "missing", "succeeded"] in rows, out
    report = json.loads(mesh.cli("replay", "--verify", "--data-dir", edited, "-o", "json")[1])
    assert report["ok"] is False and report["differences"] == 2
    found = {(d["object"], d["field"]): (d["stored"], d["rebuilt"]) for d in report["first_differences"]}
    assert found[(f"job {ids[1]}", "state")] == ("running", "succeeded")


@pytest.mark.deadline(120)
def test_verify_passes_on_a_store_left_by_kill9_before_and_after_the_restart(mesh, registry):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1", concurrency=4, args=FAST_RECONNECT)
    for i in range(3):
        hub.submit({"command": "shell", "payload": "sleep 1"})
    for i in range(30):
        hub.submit({"command": "echo", "payload": i})
    registry.kill9(hub.proc)
    crashed = mesh.path("crashed")
    shutil.copytree(hub.data_dir, crashed)
    rc, out, err = replay(mesh, "--verify", "--data-dir", crashed)
    assert rc == 0, f"a crashed store is its events plus rows that lag them:\n{out}\n{err}"

    hub2 = mesh.restart_hub(hub)
    wait_until(lambda: all(j["state"] == "succeeded" for j in hub2.jobs()) and len(hub2.jobs()) == 33, 60,
               "every job to succeed after the restart", interval=0.2)
    registry.stop(hub2.proc)
    rc, out, err = replay(mesh, "--verify", "--data-dir", hub.data_dir)
    assert rc == 0, f"{out}\n{err}"
    assert "lagging" not in out and "rows behind" not in out, out  # a clean stop leaves every row current


@pytest.mark.deadline(120)
def test_until_shows_a_run_mid_flight_and_the_chrome_trace_has_one_span_per_step(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "web1", concurrency=2)
    path = write_wf(mesh, "three", """
        id: three
        steps:
          - id: fetch
            run: echo fetched
          - id: build
            needs: [fetch]
            run: sleep 0.5; echo built
          - id: ship
            needs: [build]
            run: echo shipped
    """)
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    assert wait_run(hub, run_id)["state"] == "succeeded"

    full = replay_json(mesh, run_id, "--data-dir", hub.data_dir)
    assert full["kind"] == "run" and full["state"]["state"] == "succeeded"
    assert len(full["jobs"]) == 3
    build_started = next(e["seq"] for e in full["events"]
                         if e["type"] == "step.started" and e["data"]["path"] == "build")
    mid = replay_json(mesh, run_id, "--data-dir", hub.data_dir, "--until", str(build_started))
    steps = {s["id"]: s["state"] for s in mid["state"]["steps"]}
    assert mid["state"]["state"] == "running", mid["state"]
    assert steps.get("fetch") == "succeeded" and steps.get("build") == "running", steps
    assert "ship" not in steps or steps["ship"] == "pending", steps
    assert all(e["seq"] <= build_started for e in mid["events"])
    # the same moment by its time
    at = next(e["time"] for e in full["events"] if e["seq"] == build_started)
    by_time = replay_json(mesh, run_id, "--data-dir", hub.data_dir, "--until", at)
    assert by_time["until"] >= build_started and by_time["state"]["state"] == "running"

    trace_file = mesh.path("trace.json")
    rc, out, err = replay(mesh, run_id, "--data-dir", hub.data_dir, "--export", "chrome-trace", trace_file)
    assert rc == 0, err
    with open(trace_file, encoding="utf-8") as f:
        trace = json.load(f)
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    steps = sorted(e["name"] for e in spans if e["cat"] == "step")
    assert steps == ["build", "fetch", "ship"], steps
    for e in spans:
        assert e["dur"] >= 0 and e["ts"] >= 0
    attempts = [e for e in spans if e["cat"] == "attempt"]
    assert len(attempts) == 3
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {names[(e["pid"], e["tid"])] for e in attempts} == {"web1"}, names
    assert len([e for e in spans if e["cat"] == "queue"]) == 3
    through = mesh.cli("replay", run_id, "--export", "chrome-trace", "-", hub=hub)
    assert through[0] == 0 and len([e for e in json.loads(through[1])["traceEvents"] if e["ph"] == "X"]) == len(spans)


@pytest.mark.deadline(60)
def test_bad_replay_usage_gets_one_line_and_its_exit_code(mesh):
    hub = mesh.start_hub()
    rc, out, err = replay(mesh, "--verify", "some-id", "--data-dir", hub.data_dir)
    assert "drop the ID" in assert_one_error_line(rc, out, err, 2, "replay --verify ID")
    rc, out, err = replay(mesh, "x", "--until", "yesterday", "--data-dir", hub.data_dir)
    assert "--until yesterday" in assert_one_error_line(rc, out, err, 2, "replay --until yesterday")
    rc, out, err = replay(mesh, "no-such-thing", "--data-dir", hub.data_dir)
    assert "no job, run, agent or workflow" in assert_one_error_line(rc, out, err, 2, "replay unknown")
    rc, out, err = replay(mesh, "--data-dir", mesh.path("nowhere"))
    assert "check --data-dir" in assert_one_error_line(rc, out, err, 2, "replay --data-dir missing")
    rc, out, err = replay(mesh, "x", "--export", "pdf", "f.pdf", "--data-dir", hub.data_dir)
    assert "chrome-trace" in assert_one_error_line(rc, out, err, 2, "replay --export pdf")
    rc, out, err = mesh.cli("replay", server="http://127.0.0.1:1")
    assert_one_error_line(rc, out, err, 3, "replay through an unreachable hub")
