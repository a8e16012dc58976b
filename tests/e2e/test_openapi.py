"""GET /api/v1/openapi.json: an OpenAPI 3.0 document that cannot drift from the router. The router's
list comes from the hub's own route table (GET /api/v1/routes), not from a copy here."""

import re


def test_every_route_is_documented_and_every_documented_route_exists(hub):
    status, doc = hub.get("/api/v1/openapi.json")
    assert status == 200, doc
    assert doc["openapi"].startswith("3.0.") and doc["info"]["title"] and doc["info"]["version"]
    status, table = hub.get("/api/v1/routes")
    assert status == 200, table
    served = {(r["method"], r["path"]) for r in table["routes"]}
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert served - documented == set(), "routes the hub serves that the OpenAPI document lacks"
    assert documented - served == set(), "operations in the OpenAPI document that the hub does not serve"
    assert ("GET", "/api/v1/events") in served and ("GET", "/api/v1/openapi.json") in served


def test_the_document_is_well_formed(hub):
    _, doc = hub.get("/api/v1/openapi.json")
    seen_ids = set()
    for path, ops in doc["paths"].items():
        names = re.findall(r"{([^}]+)}", path)
        for method, op in ops.items():
            assert method in ("get", "post", "patch", "put", "delete"), (path, method)
            assert op["summary"] and op["responses"], (path, method)
            assert op["operationId"] not in seen_ids
            seen_ids.add(op["operationId"])
            in_path = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            assert in_path == names, (path, method, in_path)
            for code, resp in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", code) and resp["description"], (path, method, code)
                for media in resp.get("content", {}).values():
                    ref = media["schema"].get("$ref")
                    if ref:
                        assert ref.split("/")[-1] in doc["components"]["schemas"], ref
    events = doc["paths"]["/api/v1/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]
    assert {"job", "run", "agent", "type", "after"} <= {p["name"] for p in events["parameters"]}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error", "message"]


def test_readyz_and_one_error_shape(hub):
    assert hub.get("/readyz") == (200, {"status": "ready"})
    for method, path, body, status in (("GET", "/api/v1/jobs/nope", None, 404), ("GET", "/api/v1/runs/nope", None, 404),
                                       ("GET", "/api/v1/workflows/nope", None, 404), ("GET", "/api/v1/agents/nope", None, 404),
                                       ("POST", "/api/v1/jobs", {"payload": 1}, 400), ("GET", "/api/v1/nothing", None, 404),
                                       ("POST", "/api/v1/runs", {}, 400)):
        from e2e_helpers import http_request
        got, reply = http_request(hub.port, method, path, body=body)
        assert got == status, (method, path, got, reply)
        assert set(reply) == {"error", "message"} and reply["message"], (method, path, reply)
