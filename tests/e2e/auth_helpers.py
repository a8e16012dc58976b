"""Helpers for the auth tests: tokens minted with the real CLI, JWTs forged by hand (hmac and the
`openssl` command only), and a hub started with token auth.

A forged token is built from parts, so each attack changes exactly one thing from a token that
the hub accepts (`forge(...)` with no changes is the control that must be accepted).
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import e2e_helpers as h


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hub_secret(data_dir):
    """The HS256 secret a hub keeps in its data dir (what a thief of that file would have)."""
    with open(os.path.join(data_dir, "jwt-secret"), encoding="utf-8") as f:
        return b64url_decode(f.read().strip())


def claims(role="operator", ttl=3600, **changes):
    now = int(time.time())
    c = {"iss": "orbitmesh", "aud": "orbitmesh", "sub": "forged", "jti": f"forged-{time.monotonic_ns()}",
         "role": role, "typ": "access", "iat": now, "nbf": now, "exp": now + ttl}
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def sign_hs256(key, header, payload):
    signing_input = b64url(json.dumps(header, separators=(",", ":"))) + "." + \
        b64url(json.dumps(payload, separators=(",", ":")))
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def mint(mesh, data_dir, role, name=None, ttl=None, refresh=False, extra=()):
    """`orbitmesh token create --data-dir DIR` (offline, beside a running hub). Returns the tokens."""
    args = ["token", "create", "--data-dir", data_dir, "--role", role, *extra]
    if name:
        args += ["--name", name]
    if ttl:
        args += ["--ttl", ttl]
    if refresh:
        args += ["--refresh"]
    rc, out, err = mesh.cli(*args)
    assert rc == 0, f"token create --role {role}: exit {rc}, stderr={err!r}"
    lines = out.split()
    assert lines and lines[0].count(".") == 2, f"token create printed {out!r}"
    return lines


def token_id(token):
    return json.loads(b64url_decode(token.split(".")[1]))["jti"]


def start_token_hub(mesh, args=(), data_dir=None):
    """A hub on 127.0.0.1 that requires tokens (`--auth token`), with an admin token minted first."""
    data_dir = data_dir or mesh.path(f"hub-data-auth-{time.monotonic_ns()}")
    os.makedirs(data_dir, exist_ok=True)
    admin = mint(mesh, data_dir, "admin", name="first-admin")[0]
    hub = mesh.start_hub(data_dir=data_dir, args=("--auth", "token", *args))
    return hub, admin


def request(hub, method, path, token=None, body=None, headers=None, timeout=10.0):
    hdrs = dict(headers or {})
    if token:
        hdrs.update(bearer(token))
    return h.http_request(hub.port, method, path, body=body, headers=hdrs, timeout=timeout)


def upgrade(hub, token=None, query_token=None, extra_header=None, timeout=5.0):
    """A raw WebSocket upgrade to /mesh; returns (status, body text). 101 means accepted."""
    import socket
    path = "/mesh" + (f"?access_token={query_token}" if query_token else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{hub.port}", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: orbitmesh.msgpack"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if extra_header:
        lines.append(extra_header)
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", hub.port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data and time.monotonic() < deadline and len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        if status != 101:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(rest) < length and time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        return status, rest.decode("utf-8", "replace")


def event_count(db_path):
    import sqlite3
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def openssl(*args, cwd=None):
    cp = subprocess.run(["openssl", *args], capture_output=True, cwd=cwd, timeout=60)
    assert cp.returncode == 0, f"openssl {' '.join(args)}: {cp.stderr.decode(errors='replace')}"
    return cp.stdout
