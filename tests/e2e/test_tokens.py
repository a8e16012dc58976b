"""Token lifecycle (SPEC §1 `token`, §8): minted offline beside a running hub, passed by flag, file
or environment, listed without their text, revoked at once (open agent connections included),
refresh tokens that rotate and whose reuse revokes the family; exit 3 with one line on 401/403."""

import json
import os

import auth_helpers as a
import e2e_helpers as h


def cli_as(mesh, hub, token, *args, **kw):
    return mesh.cli("--server", hub.url, "--token", token, *args, **kw)


def test_offline_create_beside_a_running_hub_works_at_once_and_is_listed(mesh):
    hub, admin = a.start_token_hub(mesh)
    operator = a.mint(mesh, hub.data_dir, "operator", name="ci-runner", ttl="2h")[0]  # hub is running
    rc, out, err = cli_as(mesh, hub, operator, "status", "agents", "-o", "json")
    assert rc == 0, err
    rc, out, err = cli_as(mesh, hub, admin, "token", "list", "-o", "json")
    assert rc == 0, err
    tokens = {t["id"]: t for t in json.loads(out)["tokens"]}
    record = tokens[a.token_id(operator)]
    assert record["name"] == "ci-runner" and record["role"] == "operator" and record["state"] == "active"
    assert operator not in out and admin not in out, "token text must never be listed"
    rc, out, err = cli_as(mesh, hub, admin, "token", "list")
    assert rc == 0 and "ci-runner" in out and "first-admin" in out


def test_the_token_comes_from_the_flag_the_file_or_the_environment(mesh):
    hub, admin = a.start_token_hub(mesh)
    path = mesh.path("admin.token")
    with open(path, "w", encoding="utf-8") as f:
        f.write(admin + "\n")
    assert mesh.cli("--server", hub.url, "--token", admin, "status", "agents")[0] == 0
    assert mesh.cli("--server", hub.url, "--token-file", path, "status", "agents")[0] == 0
    env = mesh.cli_env(hub)
    env["ORBITMESH_TOKEN"] = admin
    import subprocess
    cp = subprocess.run([mesh.binary, "status", "agents"], env=env, capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    rc, out, err = mesh.cli("--server", hub.url, "--token", admin, "--token-file", path, "status", "agents")
    assert "either --token or --token-file" in h.assert_one_error_line(rc, out, err, 2, "both token flags")
    rc, out, err = mesh.cli("--server", hub.url, "--token-file", mesh.path("missing"), "status", "agents")
    h.assert_one_error_line(rc, out, err, 2, "a missing token file")


def test_401_and_403_exit_3_with_one_line(mesh):
    hub, admin = a.start_token_hub(mesh)
    rc, out, err = mesh.cli("--server", hub.url, "job", "list")
    assert "requires a token" in h.assert_one_error_line(rc, out, err, 3, "job list without a token")
    rc, out, err = mesh.cli("--server", hub.url, "--token", "x.y.z", "job", "list")
    assert "refused GET /api/v1/jobs" in h.assert_one_error_line(rc, out, err, 3, "job list with garbage")
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    rc, out, err = cli_as(mesh, hub, operator, "token", "list")
    line = h.assert_one_error_line(rc, out, err, 3, "token list as operator")
    assert "role operator may not GET /api/v1/tokens" in line and "admin" in line
    agent = a.mint(mesh, hub.data_dir, "agent")[0]
    rc, out, err = cli_as(mesh, hub, agent, "job", "submit", "--", "echo", "hi")
    assert "role agent may not POST /api/v1/jobs" in h.assert_one_error_line(rc, out, err, 3, "submit as agent")


def test_tokens_minted_through_the_api_have_the_asked_role(mesh):
    hub, admin = a.start_token_hub(mesh)
    rc, out, err = cli_as(mesh, hub, admin, "token", "create", "--role", "operator", "--name", "deployer", "--ttl", "1h")
    assert rc == 0, err
    operator = out.strip()
    assert a.request(hub, "GET", "/api/v1/jobs", token=operator)[0] == 200
    assert a.request(hub, "GET", "/api/v1/tokens", token=operator)[0] == 403
    rc, out, err = cli_as(mesh, hub, admin, "token", "create", "--role", "agent", "-o", "json")
    assert rc == 0, err
    record = json.loads(out)
    assert record["role"] == "agent" and record["created_by"] == "first-admin" and record["token"]


def test_an_agent_token_registers_and_an_operator_token_cannot(mesh):
    hub, admin = a.start_token_hub(mesh)
    agent_token = a.mint(mesh, hub.data_dir, "agent", name="fleet")[0]
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    agent = mesh.start_agent(hub, "a1", args=("--token", agent_token), wait_connected=False)
    h.wait_until(lambda: a.request(hub, "GET", "/api/v1/agents/a1", token=admin)[0] == 200, 15, "a1 registered")
    job = json.loads(cli_as(mesh, hub, operator, "job", "submit", "--wait", "-o", "json", "--", "echo", "hi")[1])
    assert job["state"] == "succeeded" and job["agent"]["name"] == "a1"
    imposter = mesh.start_agent(hub, "a2", args=("--token", operator), wait_connected=False)
    rc = imposter.proc.popen.wait(timeout=20)
    log = imposter.proc.log_tail()
    errors = [line for line in log.splitlines() if line.startswith("orbitmesh: error:")]
    assert rc == 3, log
    assert len(errors) == 1 and "403" in errors[0] and "cannot register as an agent" in errors[0], log
    assert agent.proc.alive()


def test_an_agent_without_a_token_exits_3(mesh):
    hub, _ = a.start_token_hub(mesh)
    agent = mesh.start_agent(hub, "bare", wait_connected=False)
    assert agent.proc.popen.wait(timeout=20) == 3
    assert "requires a token" in agent.proc.log_tail()


def test_revoking_a_token_closes_its_open_agent_connections_at_once(mesh):
    hub, admin = a.start_token_hub(mesh)
    agent_token = a.mint(mesh, hub.data_dir, "agent", name="doomed")[0]
    token_file = mesh.path("agent.token")
    with open(token_file, "w", encoding="utf-8") as f:
        f.write(agent_token)
    agent = mesh.start_agent(hub, "d1", args=("--token-file", token_file), wait_connected=False)
    h.wait_until(lambda: (a.request(hub, "GET", "/api/v1/agents/d1", token=admin)[1] or {}).get("state") == "connected",
                 15, "d1 connected")
    rc, out, err = cli_as(mesh, hub, admin, "token", "revoke", a.token_id(agent_token), "--reason", "laptop stolen")
    assert rc == 0 and "revoked" in out, err
    assert a.request(hub, "GET", "/api/v1/jobs", token=agent_token)[0] == 401
    h.wait_until(lambda: (a.request(hub, "GET", "/api/v1/agents/d1", token=admin)[1] or {}).get("state") == "disconnected",
                 10, "d1 disconnected by the revocation")
    assert agent.proc.popen.wait(timeout=20) == 3, agent.proc.log_tail()
    assert "revoked" in agent.proc.log_tail()
    tokens = json.loads(cli_as(mesh, hub, admin, "token", "list", "-o", "json")[1])["tokens"]
    record = next(t for t in tokens if t["id"] == a.token_id(agent_token))
    assert record["state"] == "revoked" and record["revoke_reason"] == "laptop stolen"


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(mesh):
    hub, admin = a.start_token_hub(mesh)
    access, refresh = a.mint(mesh, hub.data_dir, "operator", name="rotating", ttl="10m", refresh=True)
    rc, out, err = mesh.cli("--server", hub.url, "token", "refresh", "--refresh-token", refresh, "-o", "json")
    assert rc == 0, err
    second = json.loads(out)
    assert second["family"] == json.loads(a.b64url_decode(access.split(".")[1]))["fam"]
    assert a.request(hub, "GET", "/api/v1/jobs", token=second["token"])[0] == 200
    # The spent refresh token comes back (a thief replays it): the whole family goes.
    rc, out, err = mesh.cli("--server", hub.url, "token", "refresh", "--refresh-token", refresh)
    assert "already used" in h.assert_one_error_line(rc, out, err, 3, "reused refresh token")
    for token in (access, second["token"]):
        assert a.request(hub, "GET", "/api/v1/jobs", token=token)[0] == 401
    rc, out, err = mesh.cli("--server", hub.url, "token", "refresh", "--refresh-token", second["refresh_token"])
    h.assert_one_error_line(rc, out, err, 3, "the family's newest refresh token")
    status, body = a.request(hub, "GET", f"/api/v1/tokens/{second['id']}", token=admin)
    assert status == 200 and body["state"] == "revoked"


def test_revocations_survive_a_hub_restart(mesh):
    hub, admin = a.start_token_hub(mesh)
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    assert cli_as(mesh, hub, admin, "token", "revoke", a.token_id(operator))[0] == 0
    mesh.registry.stop(hub.proc)
    hub2 = mesh.restart_hub(hub)
    assert a.request(hub2, "GET", "/api/v1/jobs", token=operator)[0] == 401
    assert a.request(hub2, "GET", "/api/v1/jobs", token=admin)[0] == 200


def test_the_first_admin_token_can_be_minted_before_the_hub_ever_ran(mesh):
    data_dir = mesh.path("fresh")
    admin = a.mint(mesh, data_dir, "admin")[0]
    assert oct(os.stat(os.path.join(data_dir, "jwt-secret")).st_mode & 0o777) == "0o600"
    hub = mesh.start_hub(data_dir=data_dir, args=("--auth", "token"))
    assert a.request(hub, "GET", "/api/v1/tokens", token=admin)[0] == 200
    rc, out, err = mesh.cli("token", "create", "--data-dir", data_dir, "--role", "king")
    h.assert_one_error_line(rc, out, err, 2, "token create --role king")
