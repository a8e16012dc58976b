"""Connection hygiene (SPEC §8, §12): a bound on open connections, a handshake deadline, a
per-address limit on failed authentications (then 429), and request header and body limits."""

import socket
import time

import auth_helpers as a
import e2e_helpers as h


def closed_by_peer(sock, timeout):
    """True when the hub closes `sock` within `timeout` (recv sees EOF or a reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def admitted_connection(port):
    """A keep-alive connection the hub has answered on (so it counts), or None if it was refused."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if data.startswith(b"HTTP/1.1 200"):
            return s
    except OSError:
        pass
    s.close()
    return None


def test_connections_past_the_bound_are_closed_and_the_hub_serves_again_after(mesh):
    hub = mesh.start_hub(args=("--max-connections", "4"))
    held = []
    try:
        # The readiness probe's connection may still be counted for a moment: retry, bounded.
        for _ in range(50):
            if len(held) == 4:
                break
            s = admitted_connection(hub.port)
            if s is None:
                time.sleep(0.05)
            else:
                held.append(s)
        assert len(held) == 4, "could not hold 4 connections under --max-connections 4"
        extra = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
        with extra:
            assert closed_by_peer(extra, 5), "a fifth connection past --max-connections 4 stayed open"
    finally:
        for s in held:
            s.close()
    h.wait_until(hub.healthy, 10, "the hub to serve again once the held connections closed")
    assert "connection limit of 4 reached" in hub.proc.log_tail()


def test_a_client_that_never_finishes_its_request_head_is_dropped_at_the_deadline(mesh):
    hub = mesh.start_hub(args=("--handshake-timeout", "1s"))
    with socket.create_connection(("127.0.0.1", hub.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
        started = time.monotonic()
        assert closed_by_peer(s, 6), "a dawdling client was not dropped"
        assert time.monotonic() - started < 6
    assert hub.healthy()


def test_failed_authentications_past_the_limit_get_429_from_that_address(mesh):
    hub, admin = a.start_token_hub(mesh, args=("--max-auth-failures", "3"))
    for _ in range(3):
        assert a.request(hub, "GET", "/api/v1/jobs", token="bad.token.here")[0] == 401
    status, body = a.request(hub, "GET", "/api/v1/jobs", token=admin)
    assert status == 429, (status, body)
    assert "too many failed authentications from 127.0.0.1" in body["message"]
    assert a.upgrade(hub, token=admin)[0] == 429
    rc, out, err = mesh.cli("--server", hub.url, "--token", admin, "job", "list")
    assert "too many failed authentications" in h.assert_one_error_line(rc, out, err, 3, "job list while limited")
    assert hub.get("/healthz")[0] == 200, "health checks are not authenticated, so never limited"


def test_a_body_past_the_limit_gets_413(mesh):
    hub = mesh.start_hub(args=("--max-body", "2048"))
    status, body = hub.post("/api/v1/jobs", raw_body=b'{"command": "echo", "payload": "' + b"x" * 4096 + b'"}')
    assert status == 413, (status, body)
    assert "request body larger than 2048 bytes" in body["message"]
    assert hub.healthy()
