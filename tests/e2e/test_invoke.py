"""invoke/reply: the hub calls a method on one agent and waits for its answer."""


def test_invoke_ping_and_system_info_answer_from_the_agent(mesh, hub):
    agent = mesh.start_agent(hub, "callee", concurrency=2)
    status, body = hub.post("/api/v1/agents/callee/invoke", {"method": "ping"})
    assert status == 200 and body["value"] == "pong", (status, body)
    status, body = hub.post(f"/api/v1/agents/{agent.agent_id()}/invoke", {"method": "system.info"})
    assert status == 200 and body["value"]["cores"] >= 1 and body["value"]["host"], (status, body)


def test_invoke_errors_are_reported_with_their_status(mesh, hub):
    mesh.start_agent(hub, "callee", concurrency=2)
    status, body = hub.post("/api/v1/agents/nobody/invoke", {"method": "ping"})
    assert status == 404 and body["error"] == "not_found", (status, body)
    status, body = hub.post("/api/v1/agents/callee/invoke", {"method": "no.such.method"})
    assert status == 500 and "unknown method" in body["message"], (status, body)
    status, body = hub.post("/api/v1/agents/callee/invoke", {})
    assert status == 400 and "method" in body["message"], (status, body)
