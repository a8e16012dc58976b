"""Bad input on the agent WebSocket closes only the offending connection, with a close code
and a reason; a real agent beside it keeps working and the hub stays up."""

import threading

import msgpack
import pytest

from e2e_helpers import RawClient, hello


def close_of(hub, send):
    """Opens a raw client, lets send(client) misbehave, returns (code, reason)."""
    client = RawClient(hub.ws_url)
    try:
        errors = []

        def run():
            try:
                send(client)
            except Exception as exc:  # the hub may close while we are still sending
                errors.append(exc)

        sender = threading.Thread(target=run, daemon=True)
        sender.start()
        code, reason = client.wait_close(timeout=15)
        sender.join(timeout=15)
        return code, reason
    finally:
        client.close()


BAD_FRAMES = {
    "garbage bytes": (lambda c: c.send_raw(b"\xc1\xc1\xc1 not msgpack at all \xff\xfe"), {1007}),
    "not a map": (lambda c: c.send_raw(msgpack.packb(12345)), {1007}),
    "oversized frame": (lambda c: c.send_raw(b"\x00" * (20 * 1024 * 1024)), {1009}),
    "hello missing fields": (lambda c: c.send({"t": "hello", "name": "half"}), {1007}),
    "frame before hello": (lambda c: c.send({"t": "heartbeat",
                                             "load": {"cpu": 0, "mem": 0, "running": 0}}),
                           {1008}),
    "array of non-maps": (lambda c: c.send_raw(msgpack.packb([1, 2, 3])), {1007}),
}


@pytest.mark.deadline(120)
def test_bad_frames_close_only_their_connection_with_a_code_and_reason(mesh, hub):
    mesh.start_agent(hub, "steady", concurrency=2)
    problems = []
    for what, (send, codes) in BAD_FRAMES.items():
        try:
            code, reason = close_of(hub, send)
        except AssertionError as exc:
            problems.append(f"{what}: {exc}")
            continue
        if code not in codes:
            problems.append(f"{what}: close code {code} (expected {sorted(codes)}), "
                            f"reason {reason!r}")
        elif not reason:
            problems.append(f"{what}: close code {code} without a reason")
    assert hub.proc.alive(), f"hub died:\n{hub.proc.log_tail()}"
    assert hub.healthy(), "hub /healthz fails after bad frames"
    rec = hub.wait_job(hub.submit({"command": "echo", "payload": "still here"})["id"])
    assert rec["state"] == "succeeded" and rec["output"] == "still here", rec
    agent = hub.agent_record("steady")
    assert agent["state"] == "connected", agent
    assert not problems, "\n".join(problems)


# Sent after a valid hello (and its welcome): each must close with 1007 and name the field.
AFTER_HELLO = {
    "heartbeat load.cpu a string": ({"t": "heartbeat", "load": {"cpu": "lots"}}, '"load.cpu"'),
    "heartbeat load a list": ({"t": "heartbeat", "load": [1, 2]}, '"load"'),
    "ack attempt a string": ({"t": "ack", "job_id": "j", "attempt": "1"}, '"attempt"'),
    "result exit_code a map": ({"t": "result", "job_id": "j", "attempt": 1, "status": "failed",
                                "exit_code": {"x": 1}}, '"exit_code"'),
    "progress percent out of range": ({"t": "progress", "job_id": "j", "attempt": 1,
                                       "percent": 1e9}, '"percent"'),
    "output stream unknown": ({"t": "output", "job_id": "j", "attempt": 1, "seq": 1,
                               "stream": "tty", "data": "x"}, '"stream"'),
}


@pytest.mark.deadline(120)
def test_a_nested_field_of_the_wrong_type_closes_with_1007_naming_the_field(mesh, hub):
    mesh.start_agent(hub, "steady", concurrency=2)
    problems = []
    for i, (what, (bad, field)) in enumerate(AFTER_HELLO.items()):
        client = RawClient(hub.ws_url)
        try:
            client.send(hello(f"0190aaaa-0000-7000-8000-00000000010{i}", f"nested-{i}"))
            welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
            assert welcome is not None, f"{what}: no welcome; got {seen!r}"
            client.send(bad)
            code, reason = client.wait_close(timeout=10)
        finally:
            client.close()
        if code != 1007 or field not in reason:
            problems.append(f"{what}: close {code} {reason!r} (expected 1007 naming {field})")
    bad_hello = hello("0190aaaa-0000-7000-8000-000000000199", "nested-hello",
                      running=[{"job_id": "j1", "attempt": "1"}])
    code, reason = close_of(hub, lambda c: c.send(bad_hello))
    if code != 1007 or '"running[0].attempt"' not in reason:
        problems.append(f"hello running[0].attempt a string: close {code} {reason!r}")
    assert hub.proc.alive(), f"hub died:\n{hub.proc.log_tail()}"
    rec = hub.wait_job(hub.submit({"command": "echo", "payload": "still here"})["id"])
    assert rec["state"] == "succeeded" and rec["output"] == "still here", rec
    assert hub.agent_record("steady")["state"] == "connected"
    assert not problems, "\n".join(problems)
    assert "closing 1007: heartbeat field \"load.cpu\" must be a number" in hub.proc.log_tail(1 << 20), \
        "the hub does not log why it closed the connection"


def test_unsupported_protocol_version_is_closed_with_a_reason(mesh, hub):
    def send(c):
        msg = hello("0190aaaa-0000-7000-8000-000000000001", "future")
        msg["protocol"] = 999
        c.send(msg)
    code, reason = close_of(hub, send)
    assert code is not None and code >= 1000 and reason, (code, reason)


def test_a_valid_raw_hello_gets_a_welcome(mesh, hub):
    client = RawClient(hub.ws_url)
    try:
        assert client.subprotocol == "orbitmesh.msgpack", client.subprotocol
        client.send(hello("0190aaaa-0000-7000-8000-000000000002", "raw-one"))
        welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
        assert welcome is not None, f"no welcome; got {seen!r}"
        for field in ("session", "heartbeat_ms", "server_time"):
            assert field in welcome, f"welcome lacks {field}: {welcome!r}"
        rec = hub.wait_agent_state("raw-one", "connected", timeout=5)
        assert rec["id"] == "0190aaaa-0000-7000-8000-000000000002", rec
    finally:
        client.close()
    hub.wait_agent_state("raw-one", "disconnected", timeout=10)


def test_bad_http_input_gets_a_json_error(mesh, hub):
    status, body = hub.post("/api/v1/jobs", raw_body=b"{not json")
    assert status == 400 and body.get("error") == "invalid_input" and body.get("message"), \
        (status, body)
    status, body = hub.post("/api/v1/jobs", {"payload": "no command"})
    assert status == 400 and body.get("error") == "invalid_input", (status, body)
    status, body = hub.post("/api/v1/jobs", {"command": "echo", "timeout": "soon"})
    assert status == 400 and body.get("error") == "invalid_input", (status, body)
    status, body = hub.get("/api/v1/jobs/does-not-exist")
    assert status == 404 and body.get("error") == "not_found", (status, body)
    assert hub.healthy()


def test_max_frame_flag_sets_the_limit(mesh):
    hub = mesh.start_hub(args=["--max-frame", "4096"])
    msg = hello("0190aaaa-0000-7000-8000-000000000003", "big-hello")
    msg["tags"] = {"pad": "x" * 8000}
    code, reason = close_of(hub, lambda c: c.send(msg))
    assert code == 1009 and reason, (code, reason)
    assert hub.healthy()
