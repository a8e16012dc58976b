"""At-least-once dispatch with raw protocol clients standing in for misbehaving agents:
an assign that is not ACKed goes to another agent as the next attempt; an agent that goes
silent is declared disconnected and its work moves; reassignment is bounded by
--max-reassign and then the job fails with agent_lost."""

import time

import pytest

from e2e_helpers import RawClient, hello, job_agent_name, wait_until

AGENT_ID_1 = "01900000-0000-7000-8000-0000000000a1"
AGENT_ID_2 = "01900000-0000-7000-8000-0000000000a2"


def raw_agent(hub, agent_id, name, handlers=("echo", "sleep", "shell")):
    client = RawClient(hub.ws_url)
    client.send(hello(agent_id, name, handlers=handlers, capabilities=handlers, concurrency=4))
    welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
    assert welcome is not None, f"raw agent {name}: no welcome; got {seen!r}"
    return client


def wait_assign(client, job_id, timeout=10):
    msg, seen = client.wait_for(lambda m: m.get("t") == "assign" and m.get("job_id") == job_id,
                                timeout, "assign")
    assert msg is not None, f"no assign for {job_id}; got {seen!r}"
    for field in ("attempt", "command", "payload", "mode", "timeout_ms"):
        assert field in msg, f"assign lacks {field}: {msg!r}"
    return msg


@pytest.mark.deadline(60)
def test_assign_not_acked_in_time_goes_to_another_agent_as_attempt_2(mesh):
    hub = mesh.start_hub(args=["--ack-timeout", "1s", "--reassign-after", "1s",
                               "--heartbeat", "1s"])
    mute = raw_agent(hub, AGENT_ID_1, "mute")
    try:
        job_id = hub.submit({"command": "echo", "payload": "needs an ack"})["id"]
        first = wait_assign(mute, job_id)
        assert first["attempt"] == 1, first
        mesh.start_agent(hub, "real")
        rec = hub.wait_job(job_id, timeout=20)
        assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
        assert job_agent_name(rec) == "real", rec
        # the late ACK + result of attempt 1 change nothing
        mute.send({"t": "ack", "job_id": job_id, "attempt": 1})
        mute.send({"t": "result", "job_id": job_id, "attempt": 1, "status": "succeeded",
                   "exit_code": 0, "output": "LATE", "error": ""})
        ack, seen = mute.wait_for(lambda m: m.get("t") == "result_ack", 3, "result_ack")
        assert ack is not None, f"no result_ack for the late result of attempt 1; got {seen!r}"
        assert ack.get("rejected") is True, ack
        after = hub.job(job_id)
        assert after["output"] == "needs an ack" and after["attempt"] == 2, after
    finally:
        mute.close()


@pytest.mark.deadline(60)
def test_silent_agent_is_disconnected_and_its_running_job_moves(mesh):
    hub = mesh.start_hub(args=["--heartbeat", "1s", "--reassign-after", "1s"])
    silent = raw_agent(hub, AGENT_ID_1, "silent")
    try:
        job_id = hub.submit({"command": "sleep", "payload": "1"})["id"]
        a = wait_assign(silent, job_id)
        silent.send({"t": "ack", "job_id": job_id, "attempt": a["attempt"]})
        wait_until(lambda: hub.job(job_id)["state"] == "running", 5, "job running on silent")
        # no heartbeats, no reads: the TCP connection stays open (half-dead agent)
        t0 = time.monotonic()
        hub.wait_agent_state("silent", "disconnected", timeout=15)
        assert time.monotonic() - t0 >= 1.5, "declared disconnected before 3 missed heartbeats"
        mesh.start_agent(hub, "real")
        rec = hub.wait_job(job_id, timeout=20)
        assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
        assert job_agent_name(rec) == "real", rec
    finally:
        silent.close()


@pytest.mark.deadline(60)
def test_reassignment_is_bounded_by_max_reassign_then_agent_lost(mesh):
    hub = mesh.start_hub(args=["--heartbeat", "1s", "--reassign-after", "1s",
                               "--max-reassign", "1"])
    job_id = hub.submit({"command": "sleep", "payload": "30"})["id"]
    attempts = []
    for agent_id, name in ((AGENT_ID_1, "doomed-1"), (AGENT_ID_2, "doomed-2")):
        client = raw_agent(hub, agent_id, name)
        try:
            a = wait_assign(client, job_id, timeout=15)
            attempts.append(a["attempt"])
            client.send({"t": "ack", "job_id": job_id, "attempt": a["attempt"]})
            wait_until(lambda: hub.job(job_id)["state"] == "running", 5, "running")
        finally:
            client.close()  # the agent is lost with the job
    assert attempts == [1, 2], attempts
    rec = hub.wait_job(job_id, timeout=20)
    assert rec["state"] == "failed", rec
    assert "agent_lost" in str(rec.get("error")), rec
    assert rec["retries_used"] == 0, f"agent loss must not spend retries: {rec}"


@pytest.mark.deadline(60)
def test_agent_never_runs_more_jobs_than_its_concurrency(mesh, hub):
    from e2e_helpers import find_sleep_procs
    agent = mesh.start_agent(hub, "pair", concurrency=2)
    ids = [hub.submit({"command": "shell", "payload": "sleep 1.3"})["id"] for _ in range(5)]
    most = 0
    deadline = time.monotonic() + 20
    for _ in range(2000):
        most = max(most, len(find_sleep_procs(agent.pid, "1.3")))
        states = [hub.job(i)["state"] for i in ids]
        if all(s == "succeeded" for s in states) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert all(hub.job(i)["state"] == "succeeded" for i in ids)
    assert most == 2, f"at most {most} jobs ran at once on an agent with --concurrency 2"
