"""A small server-sent events client over a raw socket, for the event-stream tests: it can shrink
its receive buffer (the slow-client test) and sees exactly what the hub writes."""

import json
import socket
import time


class SseClient:
    """`GET path` on 127.0.0.1:port, reading `text/event-stream`. Every read has a deadline."""

    def __init__(self, port, path, headers=None, rcvbuf=None, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.eof = False
        head = self._read_until(b"\r\n\r\n", timeout)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.comments = []

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the event stream in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def _read_until(self, sep, timeout):
        deadline = time.monotonic() + timeout
        while sep not in self.buf:
            if self.eof:
                raise EOFError(f"the stream ended before {sep!r}; got {self.buf[:300]!r}")
            self._fill(deadline)
        part, _, self.buf = self.buf.partition(sep)
        return part

    def body_text(self, timeout=5.0):
        """The rest of the body: Content-Length bytes (error replies), else up to the end of the
        connection."""
        deadline = time.monotonic() + timeout
        want = int(self.headers["content-length"]) if "content-length" in self.headers else None
        while not self.eof and (want is None or len(self.buf) < want):
            self._fill(deadline)
        return self.buf[:want].decode("utf-8", "replace") if want is not None else self.buf.decode("utf-8", "replace")

    def next_message(self, timeout=10.0):
        """The next event as {"id", "event", "data"} (data parsed); comments and `retry:` are kept
        aside. None once the hub closed the stream."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" not in self.buf:
                if self.eof:
                    return None
                self._fill(deadline)
            block, _, self.buf = self.buf.partition(b"\n\n")
            msg = {}
            for line in block.decode("utf-8").split("\n"):
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                key, _, value = line.partition(": ")
                msg[key] = value
            if "data" in msg:
                msg["data"] = json.loads(msg["data"])
                return msg

    def read(self, n, timeout=20.0):
        """Exactly n events (fails on a timeout or an early end)."""
        if n <= 0:
            return []
        seen = [0]

        def nth(_):
            seen[0] += 1
            return seen[0] == n
        return self.read_until(nth, timeout=timeout, limit=n)

    def read_until(self, pred, timeout=20.0, limit=100000):
        """Events until one satisfies pred (included); bounded in count and time."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < limit:
            m = self.next_message(timeout=max(0.01, deadline - time.monotonic()))
            assert m is not None, f"the stream ended after {len(out)} events"
            out.append(m)
            if pred(m):
                return out
        raise AssertionError(f"no matching event within {limit} events")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
