"""Agent loss: a killed agent's job goes to another agent as the next attempt; a late result
from the lost attempt is rejected and never overwrites the recorded outcome."""

import sqlite3

import pytest

from e2e_helpers import (RawClient, hello, job_agent_name, terminal_events_by_job, wait_until)
from pg_server import both_stores

HUB_ARGS = ["--reassign-after", "1s", "--heartbeat", "1s"]


def event_times(db_path, stream, etype):
    """The hub's time stamps (ms) of a stream's events of one type, oldest first. Read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in conn.execute(
            "SELECT time FROM events WHERE stream = ? AND type = ? ORDER BY seq", (stream, etype))]
    finally:
        conn.close()


def wait_running(hub, job_id, timeout=15):
    def check():
        rec = hub.job(job_id)
        return rec if rec["state"] == "running" and job_agent_name(rec) else None
    return wait_until(check, timeout, f"job {job_id} running on an agent")


@both_stores
@pytest.mark.deadline(90)
def test_killed_agents_job_completes_elsewhere_as_attempt_2_and_late_result_is_rejected(
        mesh, registry):
    hub = mesh.start_hub(args=HUB_ARGS)
    agents = {n: mesh.start_agent(hub, n, concurrency=2) for n in ("a1", "a2")}
    job_id = hub.submit({"command": "sleep", "payload": "4"})["id"]
    first = job_agent_name(wait_running(hub, job_id))
    victim = agents[first]
    survivor = agents["a2" if first == "a1" else "a1"]
    victim_id = victim.agent_id()
    registry.kill9(victim.proc)

    hub.wait_agent_state(victim.name, "disconnected", timeout=10)
    rec = hub.wait_job(job_id, timeout=40)
    assert rec["state"] == "succeeded", rec
    assert rec["attempt"] == 2, rec
    assert job_agent_name(rec) == survivor.name, rec

    # The dead agent "comes back" (a raw client with its id) and reports attempt 1 late.
    client = RawClient(hub.ws_url)
    try:
        assert client.subprotocol == "orbitmesh.msgpack", client.subprotocol
        client.send(hello(victim_id, victim.name, running=[{"job_id": job_id, "attempt": 1}],
                          handlers=[]))
        welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
        assert welcome is not None, f"no welcome for the returning agent; got {seen!r}"
        client.send({"t": "result", "job_id": job_id, "attempt": 1, "status": "succeeded",
                     "exit_code": 0, "output": "STALE-ATTEMPT-1", "error": ""})
        ack, seen = client.wait_for(
            lambda m: m.get("t") == "result_ack" and m.get("job_id") == job_id, 5, "result_ack")
        assert ack is not None, f"no result_ack for the stale result; got {seen!r}"
        assert ack.get("attempt") == 1, ack
        assert ack.get("rejected") is True, f"stale result acked without rejected: {ack!r}"
        # result_ack goes out only after the hub decided (and committed): the record is final now.
    finally:
        client.close()

    after = hub.job(job_id)
    for key in ("state", "attempt", "output", "exit_code", "agent"):
        assert after.get(key) == rec.get(key), f"{key} changed by a stale result: {rec} -> {after}"
    assert after["output"] != "STALE-ATTEMPT-1", after

    registry.stop(hub.proc)
    terminal, all_types = terminal_events_by_job(hub.db_path, [job_id])
    assert len(terminal[job_id]) == 1, f"terminal events: {all_types.get(job_id)}"


@pytest.mark.deadline(60)
def test_on_agent_lost_fail_fails_the_job_with_agent_lost(mesh, registry):
    hub = mesh.start_hub(args=HUB_ARGS)
    agents = {n: mesh.start_agent(hub, n, concurrency=2) for n in ("a1", "a2")}
    job_id = hub.submit({"command": "sleep", "payload": "6", "on_agent_lost": "fail"})["id"]
    first = job_agent_name(wait_running(hub, job_id))
    registry.kill9(agents[first].proc)
    rec = hub.wait_job(job_id, timeout=30)
    assert rec["state"] == "failed", rec
    assert "agent_lost" in str(rec.get("error")), rec
    assert rec["attempt"] == 1, rec


@pytest.mark.deadline(60)
def test_job_of_a_lost_agent_waits_reassign_after_before_moving(mesh, registry):
    # default reassign_after is 10 s: a job whose agent dies is not moved at once
    hub = mesh.start_hub(args=["--reassign-after", "4s", "--heartbeat", "1s"])
    agents = {n: mesh.start_agent(hub, n, concurrency=2) for n in ("a1", "a2")}
    job_id = hub.submit({"command": "sleep", "payload": "3"})["id"]
    first = job_agent_name(wait_running(hub, job_id))
    registry.kill9(agents[first].proc)
    hub.wait_agent_state(first, "disconnected", timeout=10)
    rec = hub.wait_job(job_id, timeout=30)
    assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
    # The hub stamps both events with its clock: the move came reassign_after after the loss.
    registry.stop(hub.proc)
    lost = event_times(hub.db_path, f"agent-{agents[first].agent_id()}", "agent.disconnected")
    moved = event_times(hub.db_path, f"job-{job_id}", "job.requeued")
    assert len(lost) == 1 and len(moved) == 1, (lost, moved)
    # Stamps are whole ms and the timer is armed just before the loss is stamped: allow 5 ms.
    assert moved[0] - lost[0] >= 4000 - 5, f"job moved {moved[0] - lost[0]} ms after the agent was lost (reassign_after 4s)"
