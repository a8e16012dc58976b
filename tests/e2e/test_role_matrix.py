"""The role matrix (SPEC §8): every HTTP route and /mesh, called with no token and with a token of
each role, against a real hub. The table below is the contract; the hub's own route table
(GET /api/v1/routes) must list exactly these routes, so a route added without a row here — or a
row whose route is gone — fails this test before any request is made."""

import pytest

import auth_helpers as a

OPEN = "open"
HMAC = "webhook-hmac"  # open to the door, authenticated by its own signature (the handler checks it)
OPS = {"operator", "admin"}
ADMIN = {"admin"}

# (method, path pattern, who may call it)
MATRIX = [
    ("GET", "/healthz", OPEN),
    ("GET", "/readyz", OPEN),
    ("GET", "/metrics", OPS),
    ("GET", "/api/v1/stats", OPS),
    ("POST", "/api/v1/jobs", OPS),
    ("GET", "/api/v1/jobs", OPS),
    ("POST", "/api/v1/jobs/batch", OPS),
    ("GET", "/api/v1/jobs/{id}", OPS),
    ("POST", "/api/v1/jobs/{id}/cancel", OPS),
    ("POST", "/api/v1/jobs/{id}/retry", OPS),
    ("GET", "/api/v1/jobs/{id}/logs", OPS),
    ("GET", "/api/v1/agents", OPS),
    ("GET", "/api/v1/agents/{id}", OPS),
    ("POST", "/api/v1/agents/{id}/invoke", OPS),
    ("GET", "/api/v1/agents/{id}/twin", OPS),
    ("PATCH", "/api/v1/agents/{id}/twin", OPS),
    ("POST", "/api/v1/workflows", OPS),
    ("GET", "/api/v1/workflows", OPS),
    ("GET", "/api/v1/workflows/{id}", OPS),
    ("POST", "/api/v1/runs", OPS),
    ("GET", "/api/v1/runs", OPS),
    ("GET", "/api/v1/runs/{id}", OPS),
    ("GET", "/api/v1/runs/{id}/events", OPS),
    ("POST", "/api/v1/runs/{id}/cancel", OPS),
    ("POST", "/api/v1/runs/{id}/pause", OPS),
    ("POST", "/api/v1/runs/{id}/resume", OPS),
    ("POST", "/api/v1/runs/{id}/approve", OPS),
    ("POST", "/api/v1/runs/{id}/rerun", OPS),
    ("POST", "/api/v1/events", OPS),
    ("GET", "/api/v1/events", OPS),
    ("GET", "/api/v1/openapi.json", OPS),
    ("GET", "/api/v1/replay", OPS),
    ("GET", "/api/v1/replay/{id}", OPS),
    ("GET", "/api/v1/replay/{id}/chrome-trace", OPS),
    ("GET", "/api/v1/verify", OPS),
    ("GET", "/api/v1/triggers", OPS),
    ("POST", "/api/v1/hooks/{workflow}/{trigger}", HMAC),
    ("POST", "/api/v1/tokens", ADMIN),
    ("GET", "/api/v1/tokens", ADMIN),
    ("GET", "/api/v1/tokens/{id}", ADMIN),
    ("POST", "/api/v1/tokens/{id}/revoke", ADMIN),
    ("POST", "/api/v1/tokens/refresh", OPEN),
    ("GET", "/api/v1/routes", ADMIN),
    ("GET", "/", OPEN),             # the dashboard: the page holds no data, its API calls carry the token
    ("GET", "/ui/{file}", OPEN),
]
MESH = {"agent", "admin"}
ROLES = ("agent", "operator", "admin")

# Bodies that pass authorization but do nothing (unknown ids, missing fields): the matrix is about
# who gets past the door, so an allowed call may well answer 400 or 404.
BODIES = {
    ("POST", "/api/v1/jobs"): {"payload": "no command"},
    ("POST", "/api/v1/jobs/batch"): {"jobs": []},
    ("POST", "/api/v1/workflows"): {"file": "no-source.yaml"},
    ("POST", "/api/v1/runs"): {"workflow_id": "no-such-workflow"},
    ("POST", "/api/v1/events"): {"data": {}},
    ("POST", "/api/v1/tokens"): {"role": "no-such-role"},
    ("POST", "/api/v1/tokens/refresh"): {"refresh_token": ""},
    ("POST", "/api/v1/agents/{id}/invoke"): {"method": "ping", "timeout": "10ms"},
}

# Concrete paths where the pattern alone would not do: the event stream would stay open, so an
# admitted call is made to fail its filter check (400) at once.
PATHS = {("GET", "/api/v1/events"): "/api/v1/events?job="}


@pytest.fixture(scope="module")
def world(orbitmesh_bin, tmp_path_factory):
    from e2e_helpers import Mesh, ProcessRegistry
    tmp = str(tmp_path_factory.mktemp("matrix"))
    registry = ProcessRegistry(tmp)
    mesh = Mesh(orbitmesh_bin, tmp, registry)
    try:
        hub, admin = a.start_token_hub(mesh, args=("--max-auth-failures", "0"))
        tokens = {"admin": admin}
        for role in ("agent", "operator"):
            tokens[role] = a.mint(mesh, hub.data_dir, role)[0]
        yield hub, tokens
    finally:
        registry.stop_all()


def test_the_matrix_lists_exactly_the_hubs_routes(world):
    hub, tokens = world
    status, body = a.request(hub, "GET", "/api/v1/routes", token=tokens["admin"])
    assert status == 200, body
    served = {(r["method"], r["path"]): ((r.get("credential") or OPEN) if r["open"] else set(r["roles"]))
              for r in body["routes"]}
    expected = {(m, p): who for m, p, who in MATRIX}
    assert set(served) - set(expected) == set(), "routes without a row in the role matrix"
    assert set(expected) - set(served) == set(), "rows of the matrix the hub does not serve"
    for route, who in expected.items():
        assert served[route] == who, f"{route}: the hub admits {served[route]}, the matrix says {who}"


@pytest.mark.parametrize("method,pattern,allowed", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_each_route_admits_exactly_its_roles(world, method, pattern, allowed):
    hub, tokens = world
    path = PATHS.get((method, pattern)) or pattern.replace("{id}", "no-such-id").replace("{workflow}", "no-such-workflow").replace("{trigger}", "no-such-trigger").replace("{file}", "app.js")
    body = BODIES.get((method, pattern), {} if method == "POST" else None)
    status, reply = a.request(hub, method, path, body=body)
    if allowed in (OPEN, HMAC):
        assert status not in (401, 403), f"{method} {path} without a token: {status} {reply!r}"
    else:
        assert status == 401, f"{method} {path} without a token: {status} {reply!r}"
    for role in ROLES:
        status, reply = a.request(hub, method, path, token=tokens[role], body=body)
        if allowed in (OPEN, HMAC) or role in allowed:
            assert status not in (401, 403), f"{method} {path} as {role}: {status} {reply!r}"
        else:
            assert status == 403, f"{method} {path} as {role}: {status} {reply!r}"
            assert reply["error"] == "forbidden" and f"role {role} may not" in reply["message"]


def test_mesh_admits_agents_and_admins_only(world):
    hub, tokens = world
    assert a.upgrade(hub)[0] == 401
    for role in ROLES:
        status, text = a.upgrade(hub, token=tokens[role])
        assert status == (101 if role in MESH else 403), f"/mesh as {role}: {status} {text!r}"
    assert a.upgrade(hub, query_token=tokens["agent"])[0] == 101


def test_an_unknown_path_is_401_without_a_token_and_404_with_one(world):
    hub, tokens = world
    assert a.request(hub, "GET", "/api/v1/nothing-here")[0] == 401
    assert a.request(hub, "GET", "/api/v1/nothing-here", token=tokens["operator"])[0] == 404
