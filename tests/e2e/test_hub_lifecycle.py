"""The hub's own life: ready, port file, SIGTERM within 2 s, restart on the same port and
data dir with agents coming back and old jobs still there."""

import os
import signal
import time

import pytest

from e2e_helpers import FAST_RECONNECT


def test_port_file_healthz_and_readyz(mesh, hub):
    status, body = hub.get("/healthz")
    assert status == 200 and body == {"status": "ok"}, (status, body)
    status, body = hub.get("/readyz")
    assert status == 200 and body == {"status": "ready"}, (status, body)
    assert os.path.exists(hub.db_path), f"no store at {hub.db_path}"


@pytest.mark.deadline(60)
def test_sigterm_stops_the_hub_within_2s_even_with_an_agent_connected(mesh, hub):
    agent = mesh.start_agent(hub, "a1", args=FAST_RECONNECT)
    hub.submit({"command": "echo", "payload": "x"})
    t0 = time.monotonic()
    os.kill(hub.proc.pid, signal.SIGTERM)
    try:
        rc = hub.proc.popen.wait(timeout=5)
    except Exception:
        raise AssertionError("hub still running 5 s after SIGTERM") from None
    took = time.monotonic() - t0
    assert rc == 0, f"hub exit code after SIGTERM: {rc}"
    assert took < 2.5, f"hub took {took:.2f}s to stop after SIGTERM (contract: 2 s)"
    assert agent.proc.alive(), "the agent must survive its hub going away"


@pytest.mark.deadline(90)
@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_restart_on_same_port_keeps_jobs_and_agents_come_back(mesh, registry, how):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1", args=FAST_RECONNECT)
    done = hub.wait_job(hub.submit({"command": "echo", "payload": "before"})["id"])
    pending = hub.submit({"command": "echo", "payload": "waits",
                          "target": {"capabilities": ["later"]}})
    if how == "sigkill":
        registry.kill9(hub.proc)
    else:
        registry.stop(hub.proc)
    hub2 = mesh.restart_hub(hub)  # binds the same port at once
    assert hub2.port == hub.port
    rec = hub2.job(done["id"])
    assert rec["state"] == "succeeded" and rec["output"] == "before", rec
    assert hub2.job(pending["id"])["state"] == "pending"
    hub2.wait_agent_state("a1", "connected", timeout=15)
    rec = hub2.wait_job(hub2.submit({"command": "echo", "payload": "after"})["id"])
    assert rec["state"] == "succeeded" and rec["agent"]["name"] == "a1", rec
    mesh.start_agent(hub2, "later-box", capabilities=["later"])
    assert hub2.wait_job(pending["id"])["state"] == "succeeded"


def test_agent_keeps_its_id_across_restarts(mesh, hub, registry):
    agent = mesh.start_agent(hub, "sticky")
    first_id = agent.agent_id()
    assert first_id and hub.agent_record("sticky")["id"] == first_id
    registry.stop(agent.proc)
    hub.wait_agent_state("sticky", "disconnected", timeout=10)
    again = mesh.start_agent(hub, "sticky", data_dir=agent.data_dir)
    assert again.agent_id() == first_id
    assert hub.agent_record("sticky")["id"] == first_id
    assert len([a for a in hub.agents() if a["name"] == "sticky"]) == 1, hub.agents()
