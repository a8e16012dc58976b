"""HTTP API details used by scripts: batch submit, long-poll get, state filter, JSON
subprotocol for raw agents and several messages in one frame."""

import json
import time

import msgpack

from e2e_helpers import RawClient, hello


def test_batch_submit_creates_every_job_and_they_run(mesh, hub):
    mesh.start_agent(hub, "a1", concurrency=4)
    specs = [{"command": "echo", "payload": f"b{i}"} for i in range(20)]
    status, body = hub.post("/api/v1/jobs/batch", {"jobs": specs})
    assert status == 201, (status, body)
    ids = [r["id"] for r in body["jobs"]]
    assert len(set(ids)) == 20, body
    for i, job_id in enumerate(ids):
        rec = hub.wait_job(job_id)
        assert rec["state"] == "succeeded" and rec["output"] == f"b{i}", rec


def test_get_with_wait_holds_until_the_job_ends(mesh, hub):
    mesh.start_agent(hub, "a1")
    job_id = hub.submit({"command": "sleep", "payload": "1"})["id"]
    t0 = time.monotonic()
    status, rec = hub.get(f"/api/v1/jobs/{job_id}?wait=10s", timeout=15)
    took = time.monotonic() - t0
    assert status == 200 and rec["state"] == "succeeded", (status, rec)
    assert took < 8, f"?wait returned after {took:.1f}s, not when the job ended"
    # a wait on a job that cannot end returns the current record when the wait is over
    stuck = hub.submit({"command": "echo", "payload": "x", "target": {"capabilities": ["none"]}})
    t0 = time.monotonic()
    status, rec = hub.get(f"/api/v1/jobs/{stuck['id']}?wait=1s", timeout=10)
    assert status == 200 and rec["state"] == "pending", (status, rec)
    assert 0.8 <= time.monotonic() - t0 < 5


def test_list_filters_by_state(mesh, hub):
    mesh.start_agent(hub, "a1")
    done = hub.wait_job(hub.submit({"command": "echo", "payload": "d"})["id"])
    waiting = hub.submit({"command": "echo", "payload": "w", "target": {"capabilities": ["no"]}})
    pend = [j["id"] for j in hub.jobs(state="pending")]
    succ = [j["id"] for j in hub.jobs(state="succeeded")]
    assert waiting["id"] in pend and done["id"] not in pend, pend
    assert done["id"] in succ and waiting["id"] not in succ, succ


def test_json_subprotocol_and_batched_frames_are_understood(mesh, hub):
    import websocket
    ws = websocket.create_connection(hub.ws_url, subprotocols=["orbitmesh.json"], timeout=5)
    try:
        assert ws.getsubprotocol() == "orbitmesh.json", ws.getsubprotocol()
        msg = hello("01900000-0000-7000-8000-0000000000b1", "json-agent")
        msg["some_future_field"] = {"ignored": True}
        ws.send(json.dumps(msg))
        welcome = None
        for _ in range(20):
            frame = json.loads(ws.recv())
            frames = frame if isinstance(frame, list) else [frame]
            welcome = next((m for m in frames if m.get("t") == "welcome"), None)
            if welcome:
                break
        assert welcome is not None
        hub.wait_agent_state("json-agent", "connected", timeout=5)
    finally:
        ws.close()
    # msgpack: hello and a heartbeat in one frame (an array), processed in order
    client = RawClient(hub.ws_url)
    try:
        client.send_raw(msgpack.packb([
            hello("01900000-0000-7000-8000-0000000000b2", "batched"),
            {"t": "heartbeat", "load": {"cpu": 0.5, "mem": 0.1, "running": 0}}],
            use_bin_type=True))
        welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
        assert welcome is not None, seen
        hub.wait_agent_state("batched", "connected", timeout=5)
    finally:
        client.close()
