"""`serve --auth` (SPEC §8): none is the default only on loopback; any other address requires
tokens, and `--auth none` there refuses to start. The hubs listen on 0.0.0.0 only where the issue
asks for exactly that, and only ever with tokens required (the refused one never binds)."""

import os

import auth_helpers as a
import e2e_helpers as h


def start_raw_hub(mesh, listen, extra=(), data_dir=None):
    data_dir = data_dir or mesh.path("hub-data-raw")
    os.makedirs(data_dir, exist_ok=True)
    port_file = mesh.path("hub-port-raw")
    argv = [mesh.binary, "serve", "--listen", listen, "--data-dir", data_dir, "--port-file", port_file, *extra]
    proc = mesh.registry.start("hub-raw", argv, env=mesh.base_env())

    def read_port():
        if not proc.alive():
            raise h.Fatal(f"hub exited with {proc.popen.returncode}:\n{proc.log_tail()}")
        try:
            with open(port_file, encoding="utf-8") as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    port = h.wait_until(read_port, 20, "the hub's port file")
    hub = h.Hub(mesh, proc, port, data_dir, list(extra))
    h.wait_until(hub.healthy, 20, "GET /healthz")
    return hub


def test_all_interfaces_with_no_flags_requires_tokens(mesh):
    data_dir = mesh.path("hub-any")
    admin = a.mint(mesh, data_dir, "admin")[0]
    hub = start_raw_hub(mesh, "0.0.0.0:0", data_dir=data_dir)
    status, body = hub.get("/api/v1/jobs")
    assert status == 401, (status, body)
    assert body["error"] == "unauthorized"
    assert "requires a token" in body["message"]
    assert a.request(hub, "GET", "/api/v1/jobs", token=admin)[0] == 200
    assert hub.get("/healthz")[0] == 200, "health checks stay open for load balancers"
    assert "auth: tokens required (HS256)" in hub.proc.log_tail()
    rc, out, err = mesh.cli("status", "agents", server=hub.url)
    line = h.assert_one_error_line(rc, out, err, 3, "status agents without a token")
    assert "requires a token" in line


def test_auth_none_on_all_interfaces_refuses_to_start(mesh):
    port_file = mesh.path("never-written")
    rc, out, err = mesh.cli("serve", "--listen", "0.0.0.0:0", "--auth", "none", "--data-dir", mesh.path("d"),
                            "--port-file", port_file, timeout=20)
    line = h.assert_one_error_line(rc, out, err, 2, "serve --listen 0.0.0.0:0 --auth none")
    assert "refusing --auth none on 0.0.0.0" in line and "--insecure-no-auth" in line
    assert not os.path.exists(port_file), "a refused hub must not have listened"


def test_an_unknown_auth_mode_is_bad_usage(mesh):
    rc, out, err = mesh.cli("serve", "--auth", "maybe", "--data-dir", mesh.path("d"), timeout=20)
    line = h.assert_one_error_line(rc, out, err, 2, "serve --auth maybe")
    assert "--auth must be none or token" in line


def test_loopback_hub_with_auth_token_requires_tokens_and_accepts_the_query_form(mesh):
    hub, admin = a.start_token_hub(mesh)
    assert hub.get("/api/v1/agents")[0] == 401
    assert h.http_request(hub.port, "GET", f"/api/v1/agents?access_token={admin}")[0] == 200
    status, body = a.request(hub, "GET", "/api/v1/agents", headers={"Authorization": "Basic YTpi"})
    assert status == 401 and "Bearer TOKEN" in body["message"]


def test_a_secret_readable_by_others_stops_the_hub_with_one_line(mesh):
    data_dir = mesh.path("hub-leaky")
    a.mint(mesh, data_dir, "admin")
    os.chmod(os.path.join(data_dir, "jwt-secret"), 0o644)
    rc, out, err = mesh.cli("serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0", timeout=20)
    line = h.assert_one_error_line(rc, out, err, 2, "serve with a 0644 jwt-secret")
    assert "other users can read it" in line and "chmod 600" in line
