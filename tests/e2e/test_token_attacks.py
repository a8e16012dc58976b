"""Forged and stale tokens (SPEC §8, §12): each is refused with 401 on HTTP and on the /mesh
upgrade, and leaves nothing behind — no event, no agent, no session. Every attack changes one
thing from a token that the same test shows is accepted, so none can pass by accident."""

import json
import os
import time

import pytest

import auth_helpers as a
import e2e_helpers as h


@pytest.fixture
def target(mesh):
    """A token hub with no failure limit (this test makes many failures on purpose)."""
    hub, admin = a.start_token_hub(mesh, args=("--max-auth-failures", "0"))
    return hub, admin, a.hub_secret(hub.data_dir)


def assert_refused_everywhere(hub, admin, token, reason):
    before = a.event_count(hub.db_path)
    status, body = a.request(hub, "GET", "/api/v1/jobs", token=token)
    assert status == 401, f"HTTP with {reason}: {status} {body!r}"
    assert body["error"] == "unauthorized"
    status, body = a.request(hub, "POST", "/api/v1/jobs", token=token, body={"command": "echo", "payload": "x"})
    assert status == 401, f"submit with {reason}: {status} {body!r}"
    status, text = a.upgrade(hub, token=token)
    assert status == 401, f"/mesh with {reason}: {status} {text!r}"
    assert a.event_count(hub.db_path) == before, f"{reason}: the refused requests wrote events"
    status, agents = a.request(hub, "GET", "/api/v1/agents", token=admin)
    assert status == 200 and agents["agents"] == [], f"{reason}: a refused upgrade left an agent: {agents!r}"
    return body["message"]


def test_the_control_a_token_signed_with_the_hub_secret_is_accepted(target):
    hub, admin, secret = target
    good = a.sign_hs256(secret, {"alg": "HS256", "typ": "JWT"}, a.claims())
    assert a.request(hub, "GET", "/api/v1/jobs", token=good)[0] == 200
    agent = a.sign_hs256(secret, {"alg": "HS256", "typ": "JWT"}, a.claims(role="agent"))
    assert a.upgrade(hub, token=agent)[0] == 101


def test_alg_none_is_refused(target):
    hub, admin, _ = target
    token = a.b64url(json.dumps({"alg": "none", "typ": "JWT"})) + "." + a.b64url(json.dumps(a.claims(role="admin"))) + "."
    assert 'algorithm "none"' in assert_refused_everywhere(hub, admin, token, "alg:none")


def test_an_expired_token_is_refused(target):
    hub, admin, secret = target
    now = int(time.time())
    token = a.sign_hs256(secret, {"alg": "HS256"}, a.claims(iat=now - 7200, nbf=now - 7200, exp=now - 120))
    assert "expired" in assert_refused_everywhere(hub, admin, token, "an expired token")


def test_a_token_not_yet_valid_is_refused(target):
    hub, admin, secret = target
    token = a.sign_hs256(secret, {"alg": "HS256"}, a.claims(nbf=int(time.time()) + 600))
    assert "not valid before" in assert_refused_everywhere(hub, admin, token, "nbf in the future")


def test_a_token_for_another_audience_is_refused(target):
    hub, admin, secret = target
    token = a.sign_hs256(secret, {"alg": "HS256"}, a.claims(aud="billing-service"))
    assert "audience" in assert_refused_everywhere(hub, admin, token, "the wrong audience")


def test_a_tampered_payload_is_refused(mesh, target):
    hub, admin, _ = target
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    assert a.request(hub, "GET", "/api/v1/jobs", token=operator)[0] == 200
    header, payload, signature = operator.split(".")
    claims = json.loads(a.b64url_decode(payload))
    claims["role"] = "admin"
    forged = header + "." + a.b64url(json.dumps(claims)) + "." + signature
    assert "does not verify" in assert_refused_everywhere(hub, admin, forged, "a tampered payload")


def test_a_revoked_token_is_refused_at_once(mesh, target):
    hub, admin, _ = target
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    assert a.request(hub, "GET", "/api/v1/jobs", token=operator)[0] == 200
    status, body = a.request(hub, "POST", f"/api/v1/tokens/{a.token_id(operator)}/revoke", token=admin, body={})
    assert status == 200 and body["state"] == "revoked", body
    assert "revoked" in assert_refused_everywhere(hub, admin, operator, "a revoked token")


def test_a_64_kib_token_header_is_refused_with_401_not_parsed(target):
    # As big as an HTTP request head may be here (64 KiB in all): a JWT header of ~63 KiB, signed
    # with the right secret, is refused on its size before a byte of it is decoded.
    hub, admin, secret = target
    huge_header = {"alg": "HS256", "pad": "p" * (47 * 1024 + 256)}
    token = a.sign_hs256(secret, huge_header, a.claims())
    assert 63 * 1024 < len(token) < 64 * 1024 - 300
    assert "longer than the 8192-byte limit" in assert_refused_everywhere(hub, admin, token, "a 64 KiB token")


def test_headers_beyond_the_limit_get_431(target):
    hub, admin, _ = target
    for size in (64 * 1024, 70 * 1024, 200 * 1024):  # one field of 70 KiB is past what Beast can even hold
        status, body = h.http_request(hub.port, "GET", "/api/v1/jobs", headers={"X-Filler": "f" * size})
        assert status == 431, (size, status, body)
        assert "request headers larger than 65536 bytes" in body["message"]
    assert hub.healthy()
    assert "escaped" not in hub.proc.log_tail()


def test_a_token_of_another_hubs_secret_is_refused(mesh, target):
    hub, admin, _ = target
    other_dir = mesh.path("another-hub")
    stranger = a.mint(mesh, other_dir, "admin")[0]
    assert a.hub_secret(other_dir) != a.hub_secret(hub.data_dir)
    assert "does not verify" in assert_refused_everywhere(hub, admin, stranger, "another hub's token")


def test_hs256_signed_with_the_rs256_public_key_is_refused(mesh):
    keys = mesh.path("keys")
    os.makedirs(keys)
    a.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "hub.pem", cwd=keys)
    a.openssl("pkey", "-in", "hub.pem", "-pubout", "-out", "hub.pub.pem", cwd=keys)
    data_dir = mesh.path("rs256-hub")
    admin = a.mint(mesh, data_dir, "admin", extra=("--jwt-key", os.path.join(keys, "hub.pem")))[0]
    hub = mesh.start_hub(data_dir=data_dir, args=("--auth", "token", "--max-auth-failures", "0",
                                                 "--jwt-key", os.path.join(keys, "hub.pub.pem")))
    assert "auth: tokens required (RS256)" in hub.proc.log_tail()
    assert a.request(hub, "GET", "/api/v1/jobs", token=admin)[0] == 200, "the RS256 control"
    with open(os.path.join(keys, "hub.pub.pem"), "rb") as f:
        public_pem = f.read()
    forged = a.sign_hs256(public_pem, {"alg": "HS256", "typ": "JWT"}, a.claims(role="admin"))
    assert '"HS256" is not this hub\'s (RS256)' in assert_refused_everywhere(hub, admin, forged, "HS256 with the public key")
    # A hub holding only the public key verifies but cannot mint.
    status, body = a.request(hub, "POST", "/api/v1/tokens", token=admin, body={"role": "operator"})
    assert status == 400 and "only the public half" in body["message"], (status, body)


def test_an_unauthenticated_request_is_answered_before_its_body_is_read(target):
    import socket
    hub, _, _ = target
    head = (f"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 50000000\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as s:
        s.sendall(head)  # and never the 50 MB body
        data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 401"), data[:200]
