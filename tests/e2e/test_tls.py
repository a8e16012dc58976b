"""TLS and mutual TLS (SPEC §8) with real processes and certificates made by `openssl` at test
time: the CLI and the agent verify the hub, a CLI pointed at an untrusted hub exits 3 and says
why in one line, `/mesh` refuses an agent with no certificate or one from another CA and takes
one with a valid certificate, and the certificate's CN is the only name an agent may register as.
"""

import json
import os
import ssl
import time

import pytest

from e2e_helpers import assert_one_error_line, stderr_lines, wait_until
from tls_helpers import Pki, agent_tls_args, start_tls_hub


@pytest.fixture
def pki(tmp_path):
    return Pki(str(tmp_path / "pki"))


def hello(name, agent_id):
    return {"t": "hello", "protocol": 1, "agent_id": agent_id, "name": name, "tags": {},
            "capabilities": [], "handlers": ["echo"], "concurrency": 1, "version": "test",
            "running": []}


def mesh_connect(hub, pki, cert=None, ca="ca"):
    """A raw wss:// client (python3-websocket) presenting `cert`; raises what the connection hits."""
    import websocket
    sslopt = {"ca_certs": pki.pem(ca), "cert_reqs": ssl.CERT_REQUIRED}
    if cert:
        sslopt.update(certfile=pki.pem(cert), keyfile=pki.key(cert))
    return websocket.create_connection(hub.ws_url, subprotocols=["orbitmesh.json"], timeout=5,
                                       sslopt=sslopt)


def upgrade_request(hub, pki):
    """A WebSocket upgrade request to /mesh over TLS with no client certificate: (status, body)."""
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", hub.port, timeout=10, context=pki.client_context())
    try:
        conn.request("GET", "/mesh", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                              "Sec-WebSocket-Version": "13"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def recv_json(ws, timeout=5):
    ws.settimeout(timeout)
    return json.loads(ws.recv())


def agent_log_has(agent, text, timeout=10):
    return wait_until(lambda: text in agent.proc.log_tail(20000), timeout,
                      f"agent {agent.name} log to say {text!r}")


def test_cli_verifies_the_hub_and_an_untrusted_hub_is_exit_3_with_one_line(mesh, pki):
    hub = start_tls_hub(mesh, pki)
    rc, out, err = mesh.cli("status", "-o", "json", "--server", hub.url, "--ca", pki.pem("ca"))
    assert rc == 0, err
    assert "agents" in json.loads(out)

    # No --ca: the system store does not know the test CA.
    rc, out, err = mesh.cli("status", "--server", hub.url)
    line = assert_one_error_line(rc, out, err, 3, "status against an untrusted hub")
    assert "the hub's certificate is not trusted" in line and "--ca" in line, line
    assert f"127.0.0.1:{hub.port}" in line, line
    # A CA that did not sign it.
    rc, out, err = mesh.cli("job", "list", "--server", hub.url, "--ca", pki.pem("other-ca"))
    line = assert_one_error_line(rc, out, err, 3, "job list --ca other-ca")
    assert "unable to get local issuer certificate" in line, line
    # ORBITMESH_CA is the --ca of the environment.
    env = mesh.cli_env(server=hub.url)
    env["ORBITMESH_CA"] = pki.pem("ca")
    import subprocess
    cp = subprocess.run([mesh.binary, "status", "-o", "json"], env=env, capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    # http:// to the TLS port: the hub answers in plain HTTP that it wants https://.
    rc, out, err = mesh.cli("status", "--server", f"http://127.0.0.1:{hub.port}")
    line = assert_one_error_line(rc, out, err, 2, "status over http:// to a TLS hub")
    assert "use https://" in line, line
    # A missing --ca file is bad usage, not "cannot reach".
    rc, out, err = mesh.cli("status", "--server", hub.url, "--ca", pki.pem("nope"))
    line = assert_one_error_line(rc, out, err, 2, "status --ca missing file")
    assert "nope.pem" in line and "no such file" in line, line


def test_an_agent_over_wss_runs_a_job_submitted_over_https(mesh, pki):
    hub = start_tls_hub(mesh, pki)
    mesh.start_agent(hub, "w1", args=agent_tls_args(pki))
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--server", hub.url,
                            "--ca", pki.pem("ca"), "--", "echo", "over", "tls")
    assert rc == 0, err
    job = json.loads(out)
    assert job["state"] == "succeeded" and job["output"] == "over tls", job
    assert job["agent"]["name"] == "w1", job


def test_an_agent_that_does_not_trust_the_hub_never_registers_and_says_why(mesh, pki):
    hub = start_tls_hub(mesh, pki)
    agent = mesh.start_agent(hub, "w2", args=agent_tls_args(pki, ca="other-ca"),
                             wait_connected=False)
    agent_log_has(agent, "certificate verify failed: unable to get local issuer certificate")
    assert hub.agent_record("w2") is None


def test_mesh_refuses_no_certificate_and_a_foreign_one_and_accepts_a_valid_one(mesh, pki):
    import websocket
    pki.make_cert("agent-a", "ca", "agent-a")
    pki.make_cert("rogue", "other-ca", "agent-a")
    hub = start_tls_hub(mesh, pki, client_ca=True)

    # 1. No client certificate: 401 before the upgrade, with the reason.
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        mesh_connect(hub, pki)
    assert refused.value.status_code == 401
    status, body = upgrade_request(hub, pki)
    assert status == 401 and "client certificate" in body.get("message", ""), (status, body)

    # 2. A certificate from another CA: the TLS handshake is refused (TLS 1.3 reports the alert
    #    on the first read after the client's side finished).
    with pytest.raises((ssl.SSLError, websocket.WebSocketException, ConnectionError, OSError)):
        ws = mesh_connect(hub, pki, cert="rogue")
        ws.send(json.dumps(hello("agent-a", "01a00000-0000-7000-8000-00000000000a")))
        recv_json(ws)

    # 3. A valid certificate: upgraded, hello, welcome.
    ws = mesh_connect(hub, pki, cert="agent-a")
    try:
        ws.send(json.dumps(hello("agent-a", "01a00000-0000-7000-8000-00000000000b")))
        welcome = recv_json(ws)
        assert welcome["t"] == "welcome", welcome
    finally:
        ws.close()
    assert hub.agent_record("agent-a") is not None

    # The real agent, the same three ways.
    bare = mesh.start_agent(hub, "bare", args=agent_tls_args(pki), wait_connected=False)
    agent_log_has(bare, "HTTP 401 Unauthorized: this hub requires agents to present a client certificate")
    foreign = mesh.start_agent(hub, "agent-a", args=agent_tls_args(pki, cert="rogue"),
                               data_dir=mesh.path("agent-foreign"), wait_connected=False)
    agent_log_has(foreign, "refused the TLS connection")
    good = mesh.start_agent(hub, "agent-a", args=agent_tls_args(pki, cert="agent-a"),
                            data_dir=mesh.path("agent-good"))
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--agent", "agent-a",
                            "--server", hub.url, "--ca", pki.pem("ca"), "--", "echo", "mtls")
    assert rc == 0, err
    assert json.loads(out)["output"] == "mtls"
    # Refused for a missing certificate (401) is a setup error the agent cannot retry away: it
    # exits 3 with the reason, like an agent whose token is refused. A foreign CA is a TLS
    # failure and is retried (the CA bundle may be fixed on the hub).
    wait_until(lambda: not bare.proc.alive(), 15, "the agent without a certificate to exit")
    assert bare.proc.popen.wait(timeout=5) == 3
    assert foreign.proc.alive() and good.proc.alive()
    assert hub.agent_record("bare") is None
    # The hub logged why it refused the foreign certificate.
    assert "handshake failed: certificate verify failed" in hub.proc.log_tail(50000)


def test_an_agent_with_a_certificate_for_a_cannot_register_as_b(mesh, pki):
    pki.make_cert("cert-a", "ca", "alpha")
    pki.make_cert("cert-b", "ca", "beta")
    hub = start_tls_hub(mesh, pki, client_ca=True)
    liar = mesh.start_agent(hub, "beta", args=agent_tls_args(pki, cert="cert-a"),
                            wait_connected=False)
    agent_log_has(liar, 'client certificate is for "alpha", not "beta"')
    hub_log = hub.proc.log_tail(50000)
    assert 'closing 1008: client certificate is for "alpha", not "beta"' in hub_log, hub_log
    mesh.registry.stop(liar.proc)
    assert hub.agent_record("beta") is None and hub.agent_record("alpha") is None

    # alpha registers under its own name; beta's certificate cannot take over alpha's agent id.
    alpha = mesh.start_agent(hub, "alpha", args=agent_tls_args(pki, cert="cert-a"))
    mesh.registry.stop(alpha.proc)
    hub.wait_agent_state("alpha", "disconnected")
    thief = mesh.start_agent(hub, "beta", args=agent_tls_args(pki, cert="cert-b"),
                             data_dir=alpha.data_dir, wait_connected=False)
    agent_log_has(thief, f"agent id {alpha.agent_id()} is \"alpha\"'s")
    assert hub.agent_record("alpha")["state"] == "disconnected"
    assert hub.agent_record("beta") is None


@pytest.mark.parametrize("args, expected", [
    (["--tls-cert", "PKI/hub.pem"], "--tls-cert needs --tls-key"),
    (["--tls-key", "PKI/hub.key"], "--tls-key needs --tls-cert"),
    (["--client-ca", "PKI/ca.pem"], "--client-ca needs --tls-cert and --tls-key"),
    (["--tls-cert", "PKI/missing.pem", "--tls-key", "PKI/hub.key"], "missing.pem\": no such file"),
    (["--tls-cert", "PKI/hub.pem", "--tls-key", "PKI/ca.key"], "does not belong to the certificate"),
])
def test_serve_refuses_unusable_tls_flags_with_exit_2_and_one_line(mesh, pki, args, expected):
    args = [a.replace("PKI", pki.dir) for a in args]
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"), *args,
                            timeout=20)
    line = assert_one_error_line(rc, out, err, 2, f"serve {' '.join(args)}")
    assert expected in line, line


def test_agent_refuses_a_certificate_without_its_key(mesh, pki):
    rc, out, err = mesh.cli("agent", "--server", "wss://127.0.0.1:1/mesh", "--name", "x",
                            "--data-dir", mesh.path("ax"), "--tls-cert", pki.pem("hub"), timeout=20)
    line = assert_one_error_line(rc, out, err, 2, "agent --tls-cert without --tls-key")
    assert "--tls-cert needs --tls-key" in line, line


def test_with_tokens_required_a_verified_certificate_is_an_agent_credential_and_nothing_more(mesh, pki):
    """`--auth token` + `--client-ca`: an agent with a valid certificate and no token registers
    (its CN is its identity, role agent); the same certificate on HTTP is an agent, so operator
    routes answer 403; without a certificate or a token, /mesh is refused."""
    from auth_helpers import bearer, mint
    from e2e_helpers import http_request
    pki.make_cert("agent-a", "ca", "agent-a")
    hub = start_tls_hub(mesh, pki, client_ca=True, args=["--auth", "token"])
    operator = mint(mesh, hub.data_dir, "operator")[0]

    good = mesh.start_agent(hub, "agent-a", args=agent_tls_args(pki, cert="agent-a"),
                            data_dir=mesh.path("agent-cert-only"), wait_connected=False)
    agent_log_has(good, "connected to hub at")
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--agent", "agent-a", "--server", hub.url,
                            "--ca", pki.pem("ca"), "--token", operator, "--", "echo", "cert-only", timeout=60)
    assert rc == 0, err
    assert json.loads(out)["output"] == "cert-only"

    status, body = http_request(hub.port, "GET", "/api/v1/jobs", context=pki.client_context(cert="agent-a"))
    assert status == 403, (status, body)
    status, body = http_request(hub.port, "GET", "/api/v1/jobs", context=pki.client_context(cert="agent-a"),
                                headers=bearer(operator))
    assert status == 200, (status, body)

    bare = mesh.start_agent(hub, "bare", args=agent_tls_args(pki), wait_connected=False)
    agent_log_has(bare, "HTTP 401 Unauthorized")
    wait_until(lambda: not bare.proc.alive(), 15, "the agent without a certificate or token to exit")
    assert bare.proc.popen.wait(timeout=5) == 3
    assert good.proc.alive()
