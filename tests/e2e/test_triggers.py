"""Triggers fire by themselves (SPEC §4): a schedule trigger on a real hub, surviving kill -9
without skipping or doubling a fire time; webhooks checked by HMAC and timestamp; event triggers
on posted events and on job completions."""

import hashlib
import hmac
import json
import sqlite3
import time

import msgpack
import pytest

from e2e_helpers import http_request, wait_until
from workflow_helpers import step, wait_run


def register(hub, text, name):
    status, body = hub.post("/api/v1/workflows", {"source": text, "file": name + ".yaml"})
    assert status in (200, 201), body
    return body


def trigger_events(db_path, stream):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT type, data FROM events WHERE stream = ? ORDER BY seq", (stream,)).fetchall()
    finally:
        conn.close()
    return [(t, msgpack.unpackb(d, raw=False) if isinstance(d, bytes) else json.loads(d)) for t, d in rows]


def runs_of(hub, workflow):
    status, body = hub.get("/api/v1/runs?limit=10000")
    assert status == 200, body
    return [r for r in body["runs"] if r["workflow"]["id"] == workflow]


def trigger_row(hub, workflow, trigger):
    status, body = hub.get(f"/api/v1/triggers?workflow={workflow}")
    assert status == 200, body
    rows = [t for t in body["triggers"] if t["trigger"] == trigger]
    assert len(rows) == 1, body
    return rows[0]


TICK = """
id: tick
triggers:
  - id: every-second
    type: schedule
    interval: 1s
    catch_up: all
    max_concurrent: 1000
steps:
  - id: t
    type: transform
    expression: "'tick'"
"""


@pytest.mark.deadline(120)
def test_an_interval_trigger_fires_by_itself_and_a_kill_9_neither_skips_nor_doubles(mesh):
    hub = mesh.start_hub()
    register(hub, TICK, "tick")
    wait_until(lambda: trigger_row(hub, "tick", "every-second").get("fires", 0) >= 3, 20, "three fires")
    row = trigger_row(hub, "tick", "every-second")
    assert row["type"] == "schedule" and row["schedule"] == "interval 1000" and "next_fire" in row, row
    mesh.registry.kill9(hub.proc)
    time.sleep(1.5)  # fire times pass while the hub is down: catch_up all owes each of them
    hub2 = mesh.restart_hub(hub)
    before = len(runs_of(hub2, "tick"))
    wait_until(lambda: len(runs_of(hub2, "tick")) >= before + 3, 20, "three more fires after the restart")
    mesh.registry.stop(hub2.proc)

    events = trigger_events(hub.db_path, "trigger-tick/every-second")
    armed = [d for t, d in events if t == "trigger.armed"]
    assert len(armed) == 1, "a restart with the same definition must not re-arm the trigger"
    fired = [d["fire_ms"] for t, d in events if t == "trigger.fired"]
    assert len(fired) == len(set(fired)), f"a fire time was recorded twice: {sorted(fired)}"
    anchor = armed[0]["anchor_ms"]
    steps = sorted((f - anchor) // 1000 for f in fired)
    assert all((f - anchor) % 1000 == 0 for f in fired), "fire times are the anchor plus whole intervals"
    assert steps == list(range(1, len(steps) + 1)), f"a fire time was skipped: {steps}"
    assert not [d for t, d in events if t == "trigger.skipped"]

    conn = sqlite3.connect(f"file:{hub.db_path}?mode=ro", uri=True, timeout=10)
    try:
        started = conn.execute("SELECT data FROM events WHERE type = 'run.started'").fetchall()
    finally:
        conn.close()
    keys = [msgpack.unpackb(d, raw=False).get("idempotency_key") for (d,) in started]
    keys = [k for k in keys if k and k.startswith("trigger:tick/every-second@")]
    assert len(keys) == len(set(keys)), "a fire time started two runs"
    assert sorted(int(k.split("@")[1]) for k in keys) == sorted(fired), "every run has its fire event and back"


HOOK = """
id: deploy-hook
inputs:
  ref: {type: string, required: true}
triggers:
  - id: push
    type: webhook
    secret: this-is-the-webhook-secret-0123
    input_mapping:
      ref: body.ref
steps:
  - id: show
    type: transform
    expression: inputs.ref
"""
SECRET = b"this-is-the-webhook-secret-0123"


def deliver(hub, body, timestamp=None, secret=SECRET, signature=None):
    raw = json.dumps(body).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = signature or "sha256=" + hmac.new(secret, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return http_request(hub.port, "POST", "/api/v1/hooks/deploy-hook/push", raw_body=raw,
                        headers={"X-OrbitMesh-Signature": sig, "X-OrbitMesh-Timestamp": ts})


def test_a_webhook_needs_its_signature_and_a_fresh_timestamp(mesh):
    hub = mesh.start_hub()
    register(hub, HOOK, "deploy-hook")
    status, body = deliver(hub, {"ref": "v1"}, secret=b"not-the-secret")
    assert status == 401 and "does not match" in body["message"], body
    status, body = deliver(hub, {"ref": "v1"}, timestamp=int(time.time()) - 600)
    assert status == 401 and "off the hub's clock" in body["message"], body
    status, body = deliver(hub, {"ref": "v1"}, signature="sha256=" + "0" * 64)
    assert status == 401, body
    assert runs_of(hub, "deploy-hook") == [], "a refused delivery started a run"

    ts = int(time.time())
    status, body = deliver(hub, {"ref": "refs/tags/v2"}, timestamp=ts)
    assert status == 202, body
    run = wait_run(hub, body["run_id"])
    assert run["state"] == "succeeded" and run["inputs"] == {"ref": "refs/tags/v2"}, run
    assert step(run, "show")["output"] == "refs/tags/v2"
    status, again = deliver(hub, {"ref": "refs/tags/v2"}, timestamp=ts)
    assert status == 409 and again["run_id"] == body["run_id"], again
    assert len(runs_of(hub, "deploy-hook")) == 1

    status, wf = hub.get("/api/v1/workflows/deploy-hook")
    assert status == 200 and SECRET.decode() not in json.dumps(wf), "the API returned the webhook secret"
    status, listed = hub.get("/api/v1/triggers")
    assert SECRET.decode() not in json.dumps(listed)
    assert SECRET.decode() not in hub.proc.log_tail(100_000)
    assert http_request(hub.port, "POST", "/api/v1/hooks/deploy-hook/nope", body={})[0] == 404


EVENTS = """
id: on-deploy
inputs:
  version: {type: string, required: true}
triggers:
  - id: deployed
    type: event
    event_type: deploy.done
    filter: data.env == 'prod'
    input_mapping:
      version: data.version
steps:
  - id: show
    type: transform
    expression: inputs.version
"""

CLEANUP = """
id: cleanup
inputs:
  job_id: {type: string, required: true}
triggers:
  - id: failed-jobs
    type: event
    event_type: job.failed
    input_mapping:
      job_id: event.data.id
steps:
  - id: note
    type: transform
    expression: "'cleaning ' + inputs.job_id"
"""


def test_a_posted_event_starts_the_runs_whose_filter_it_passes(mesh):
    hub = mesh.start_hub()
    register(hub, EVENTS, "on-deploy")
    rc, out, err = mesh.cli("event", "post", "deploy.done", "--data", '{"env": "staging", "version": "1"}',
                            "-o", "json", hub=hub)
    assert rc == 0, err
    assert json.loads(out)["started"] == 0
    rc, out, err = mesh.cli("event", "post", "deploy.done", "--data", '{"env": "prod", "version": "1.2.3"}',
                            "-o", "json", hub=hub)
    assert rc == 0, err
    assert json.loads(out)["started"] == 1
    runs = runs_of(hub, "on-deploy")
    assert len(runs) == 1 and runs[0]["inputs"] == {"version": "1.2.3"}, runs
    assert wait_run(hub, runs[0]["id"])["state"] == "succeeded"
    assert trigger_row(hub, "on-deploy", "deployed")["last_outcome"] == "fired"


def test_a_failed_job_starts_the_cleanup_workflow_with_its_id(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1")
    register(hub, CLEANUP, "cleanup")
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--", "shell", "exit 3", hub=hub)
    assert rc == 1, err
    job_id = json.loads(out)["id"]
    runs = wait_until(lambda: runs_of(hub, "cleanup") or None, 20, "the cleanup run")
    assert len(runs) == 1 and runs[0]["inputs"] == {"job_id": job_id}, runs
    assert step(wait_run(hub, runs[0]["id"]), "note")["output"] == "cleaning " + job_id
    # The cleanup run's own end is an event too, but never restarts cleanup itself.
    rc, out, err = mesh.cli("job", "submit", "--wait", "--", "shell", "true", hub=hub)
    assert rc == 0, err
    assert len(runs_of(hub, "cleanup")) == 1
