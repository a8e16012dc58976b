"""invoke/reply: the hub calls a method on one agent and waits for its answer."""

import pytest

from e2e_helpers import HttpError


def test_invoke_ping_and_system_info_answer_from_the_agent(mesh, hub):
    agent = mesh.start_agent(hub, "callee", concurrency=2)
    assert hub.post("/api/v1/agents/callee/invoke", {"method": "ping"})["value"] == "pong"
    info = hub.post(f"/api/v1/agents/{agent.agent_id}/invoke", {"method": "system.info"})["value"]
    assert info["cores"] >= 1 and info["host"], info


def test_invoke_errors_are_reported_with_their_status(mesh, hub):
    mesh.start_agent(hub, "callee", concurrency=2)
    with pytest.raises(HttpError) as unknown_agent:
        hub.post("/api/v1/agents/nobody/invoke", {"method": "ping"})
    assert "404" in str(unknown_agent.value)
    with pytest.raises(HttpError) as bad_method:
        hub.post("/api/v1/agents/callee/invoke", {"method": "no.such.method"})
    assert "unknown method" in str(bad_method.value)
    with pytest.raises(HttpError) as no_method:
        hub.post("/api/v1/agents/callee/invoke", {})
    assert "400" in str(no_method.value)
