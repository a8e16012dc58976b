"""Helpers for the end-to-end suite: real `orbitmesh` processes, HTTP, raw WebSocket clients.

Rules kept here so every test follows them:
- every process the suite starts is recorded in a ProcessRegistry and stopped by its PID
  (SIGTERM, then SIGKILL after a deadline); nothing else is ever signalled, except the
  orphans of a process the suite itself killed with SIGKILL, which are recorded by PID and
  start time at that moment and reaped at teardown;
- every wait loop is bounded both in iterations and in time;
- only 127.0.0.1.
"""

import collections
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse

TERMINAL_STATES = ("succeeded", "failed", "cancelled", "timed_out", "dead")
# Event types that record a job's final outcome. The contract names `job.finished`; the others
# are accepted so that a differently named terminal event is still counted (and a test that
# expects exactly one of them cannot pass vacuously when the name differs).
TERMINAL_EVENT_TYPES = ("job.finished", "job.succeeded", "job.failed", "job.cancelled",
                        "job.timed_out", "job.dead", "job.completed")


class WaitTimeout(AssertionError):
    pass


class Fatal(AssertionError):
    """Raised inside a wait condition to stop waiting at once (e.g. the process died)."""


def wait_until(fn, timeout, what, interval=0.05):
    """Calls fn() until it returns a truthy value; bounded in time and in iterations."""
    deadline = time.monotonic() + timeout
    max_iterations = int(timeout / interval) + 2
    last = None
    last_exc = None
    for _ in range(max_iterations):
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except Fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - reported below
            last_exc = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    detail = f"last value: {last!r}"
    if last_exc is not None:
        detail += f"; last error: {last_exc!r}"
    raise WaitTimeout(f"timed out after {timeout}s waiting for {what} ({detail})")


def free_port():
    """A port that was free a moment ago (used only where a fixed port must be chosen)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# /proc helpers

def _proc_stat(pid):
    """(ppid, starttime) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'
    rest = data[data.rfind(")") + 2:].split()
    # rest[0] = state, rest[1] = ppid, ..., starttime is field 22 overall -> rest[19]
    try:
        return int(rest[1]), int(rest[19]), rest[0]
    except (IndexError, ValueError):
        return None


def is_alive(pid):
    st = _proc_stat(pid)
    return st is not None and st[2] != "Z"


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


# An agent's idle fork server (issue 15) is always there; what it forks for a job is not.
IDLE_HELPERS = ("om-fork-server",)


def descendants(pid):
    """PIDs of every live descendant of pid that does work, with their start times:
    {pid: starttime}. An agent's fork server is looked through, not counted."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _proc_stat(int(name))
        if st is None:
            continue
        children.setdefault(st[0], []).append((int(name), st[1], st[2]))
    out = {}
    stack = [pid]
    for _ in range(100000):
        if not stack:
            break
        p = stack.pop()
        for child, start, state in children.get(p, []):
            if child in out:
                continue
            if state != "Z" and _comm(child) not in IDLE_HELPERS:
                out[child] = start
            stack.append(child)
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def descendant_cmdlines(pid):
    return {p: cmdline(p) for p in descendants(pid)}


# --------------------------------------------------------------------------------------------
# processes

class Proc:
    def __init__(self, name, argv, popen, log_path):
        self.name = name
        self.argv = argv
        self.popen = popen
        self.pid = popen.pid
        self.log_path = log_path

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, max_bytes=6000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError as exc:
            return f"<no log: {exc}>"


class ProcessRegistry:
    """Starts processes, remembers them, stops exactly those (by PID) at teardown."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = []
        self.orphans = {}  # pid -> starttime, left behind by a process we SIGKILLed
        self._counter = 0
        self._lock = threading.Lock()

    def start(self, name, argv, env=None, stdout=None, stdin=subprocess.DEVNULL):
        with self._lock:
            self._counter += 1
            log_path = os.path.join(self.log_dir, f"{self._counter:02d}-{name}.log")
        log = open(log_path, "wb")
        try:
            popen = subprocess.Popen(argv, stdin=stdin,
                                     stdout=stdout if stdout is not None else log,
                                     stderr=log, env=env, close_fds=True)
        finally:
            log.close()
        proc = Proc(name, argv, popen, log_path)
        with self._lock:
            self.procs.append(proc)
        return proc

    def kill9(self, proc):
        """SIGKILL a process we started; its descendants are remembered for teardown."""
        if proc.alive():
            for pid, start in descendants(proc.pid).items():
                self.orphans[pid] = start
            os.kill(proc.pid, signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def stop(self, proc, term_timeout=5.0):
        """SIGTERM, then SIGKILL after term_timeout. Returns the exit code."""
        if proc.popen.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(timeout=term_timeout)
            except subprocess.TimeoutExpired:
                self.kill9(proc)
        return proc.popen.returncode

    def stop_all(self):
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass
        for pid, start in list(self.orphans.items()):
            st = _proc_stat(pid)
            if st is not None and st[1] == start:  # same process, not a reused PID
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.orphans.clear()

    def logs_report(self):
        parts = []
        for proc in self.procs:
            parts.append(f"===== {proc.name} (pid {proc.pid}, rc {proc.popen.returncode}) "
                         f"{' '.join(proc.argv)}\n{proc.log_tail()}")
        return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# HTTP

class HttpError(AssertionError):
    pass


def http_request(port, method, path, body=None, timeout=30.0, raw_body=None, headers=None,
                 context=None):
    """One request on a fresh connection (over TLS with an ssl `context`). Returns (status,
    parsed JSON or text)."""
    if context is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Accept": "application/json"}
        data = None
        if raw_body is not None:
            data = raw_body
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, parsed
    finally:
        conn.close()


class Hub:
    def __init__(self, mesh, proc, port, data_dir, args, store_url=None):
        self.mesh = mesh
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.args = args
        self.store_url = store_url

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/mesh"

    @property
    def db_path(self):
        """The store: the SQLite file, or the PostgreSQL URL the hub was started with."""
        if self.store_url:
            return self.store_url
        return os.path.join(self.data_dir, "orbitmesh.db")

    def get(self, path, timeout=30.0):
        return http_request(self.port, "GET", path, timeout=timeout)

    def post(self, path, body=None, timeout=30.0, raw_body=None):
        return http_request(self.port, "POST", path, body=body, timeout=timeout,
                            raw_body=raw_body)

    def healthy(self):
        try:
            status, body = self.get("/healthz", timeout=2)
        except OSError:
            return False
        return status == 200

    # jobs ------------------------------------------------------------------------------------
    def submit(self, spec):
        status, body = self.post("/api/v1/jobs", spec)
        if status not in (200, 201):
            raise HttpError(f"POST /api/v1/jobs {spec!r} -> {status} {body!r}")
        return body

    def job(self, job_id):
        status, body = self.get(f"/api/v1/jobs/{job_id}")
        if status != 200:
            raise HttpError(f"GET /api/v1/jobs/{job_id} -> {status} {body!r}")
        return body

    def jobs(self, limit=1000, state=None):
        q = {"limit": str(limit)}
        if state:
            q["state"] = state
        status, body = self.get("/api/v1/jobs?" + urllib.parse.urlencode(q))
        if status != 200:
            raise HttpError(f"GET /api/v1/jobs -> {status} {body!r}")
        return body["jobs"] if isinstance(body, dict) else body

    def wait_job(self, job_id, states=TERMINAL_STATES, timeout=30.0):
        last = {}

        def check():
            last["job"] = self.job(job_id)
            return last["job"]["state"] in states

        try:
            wait_until(check, timeout, f"job {job_id} to reach {states}", interval=0.1)
        except WaitTimeout as exc:
            raise WaitTimeout(f"{exc}; record: {last.get('job')!r}") from None
        return last["job"]

    # agents ----------------------------------------------------------------------------------
    def agents(self):
        status, body = self.get("/api/v1/agents")
        if status != 200:
            raise HttpError(f"GET /api/v1/agents -> {status} {body!r}")
        return body["agents"] if isinstance(body, dict) else body

    def agent_record(self, name):
        for a in self.agents():
            if a.get("name") == name:
                return a
        return None

    def wait_agent_state(self, name, state="connected", timeout=15.0):
        def check():
            a = self.agent_record(name)
            return a if a is not None and a.get("state") == state else None
        return wait_until(check, timeout, f"agent {name} to be {state} on hub :{self.port}",
                          interval=0.05)


class Agent:
    def __init__(self, proc, name, data_dir):
        self.proc = proc
        self.name = name
        self.data_dir = data_dir

    @property
    def pid(self):
        return self.proc.pid

    def agent_id(self):
        with open(os.path.join(self.data_dir, "agent_id"), "r", encoding="utf-8") as f:
            return f.read().strip()


class Mesh:
    """One test's processes: hubs, agents, CLI runs. Built by the `mesh` fixture."""

    def __init__(self, binary, tmp_dir, registry):
        self.binary = binary
        self.tmp = tmp_dir
        self.registry = registry
        self._n = 0
        # Set by the `mesh` fixture for a test on the PostgreSQL store: every hub started without
        # its own --store gets this one (several hubs share it).
        self.store_url = None

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def _next(self):
        self._n += 1
        return self._n

    def base_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORBITMESH_")}
        env["LC_ALL"] = "C"
        return env

    # hub -------------------------------------------------------------------------------------
    def start_hub(self, data_dir=None, port=0, args=(), wait_ready=True, timeout=20.0, env=None):
        """`serve` on 127.0.0.1; `env` adds variables to the hub's environment."""
        n = self._next()
        data_dir = data_dir or self.path(f"hub-data-{n}")
        os.makedirs(data_dir, exist_ok=True)
        port_file = self.path(f"hub-port-{n}")
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = [self.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
                "--port-file", port_file, *args]
        store_url = next((a for a in args if is_postgres_url(a)), None)
        if self.store_url and "--store" not in args:
            argv += ["--store", self.store_url]
            store_url = self.store_url
        proc = self.registry.start(f"hub{n}", argv, env={**self.base_env(), **(env or {})})
        hub = Hub(self, proc, None, data_dir, list(args), store_url)
        if not wait_ready:
            hub.port_file = port_file
            return hub

        def read_port():
            if not proc.alive():
                raise Fatal(f"hub exited with {proc.popen.returncode} before ready:\n"
                                     f"{proc.log_tail()}")
            try:
                with open(port_file, "r", encoding="utf-8") as f:
                    text = f.read().strip()
            except FileNotFoundError:
                return None
            return int(text) if text.isdigit() and int(text) > 0 else None

        try:
            hub.port = wait_until(read_port, timeout, f"hub port file {port_file}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nhub log:\n{proc.log_tail()}") from None
        if port:
            assert hub.port == port, f"port file says {hub.port}, asked for {port}"
        wait_until(hub.healthy, timeout, f"GET /healthz on :{hub.port}")
        return hub

    def restart_hub(self, hub, args=None, timeout=20.0):
        """A new hub process on the same data dir and the same port."""
        return self.start_hub(data_dir=hub.data_dir, port=hub.port,
                              args=hub.args if args is None else args, timeout=timeout)

    # agent -----------------------------------------------------------------------------------
    def start_agent(self, hub, name, capabilities=(), tags=None, concurrency=None, args=(),
                    data_dir=None, wait_connected=True, timeout=15.0):
        data_dir = data_dir or self.path(f"agent-{name}")
        os.makedirs(data_dir, exist_ok=True)
        argv = [self.binary, "agent", "--server", hub.url, "--name", name, "--data-dir", data_dir]
        for c in capabilities:
            argv += ["--capability", c]
        for k, v in (tags or {}).items():
            argv += ["--tag", f"{k}={v}"]
        if concurrency is not None:
            argv += ["--concurrency", str(concurrency)]
        argv += list(args)
        proc = self.registry.start(f"agent-{name}", argv, env=self.base_env())
        agent = Agent(proc, name, data_dir)
        if wait_connected:
            try:
                wait_until(lambda: (_raise_if_dead(proc, "agent")
                                    or (hub.agent_record(name) or {}).get("state") == "connected"),
                           timeout, f"agent {name} connected")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nagent log:\n{proc.log_tail()}") from None
        return agent

    # cli -------------------------------------------------------------------------------------
    def cli_env(self, hub=None, server=None):
        env = self.base_env()
        if server is not None:
            env["ORBITMESH_SERVER"] = server
        elif hub is not None:
            env["ORBITMESH_SERVER"] = hub.url
        return env

    def cli(self, *args, hub=None, timeout=60.0, server=None, input_text=None):
        """Runs `orbitmesh ARGS`; returns (rc, stdout, stderr)."""
        env = self.cli_env(hub, server)
        try:
            cp = subprocess.run([self.binary, *args], env=env, capture_output=True,
                                timeout=timeout, input=input_text, text=True)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"`orbitmesh {' '.join(args)}` did not end within {timeout}s; "
                                 f"stdout={exc.stdout!r} stderr={exc.stderr!r}") from None
        return cp.returncode, cp.stdout, cp.stderr

    def cli_background(self, *args, hub=None, server=None, name="cli"):
        """Starts `orbitmesh ARGS` in the background with stdout to a pipe; recorded for teardown."""
        env = self.cli_env(hub, server)
        return self.registry.start(name, [self.binary, *args], env=env, stdout=subprocess.PIPE)


def _raise_if_dead(proc, what):
    if not proc.alive():
        raise Fatal(f"{what} exited with {proc.popen.returncode}:\n{proc.log_tail()}")
    return False


def stderr_lines(text):
    return [line for line in text.splitlines() if line.strip()]


def assert_one_error_line(rc, out, err, expected_rc, cmd):
    lines = stderr_lines(err)
    assert rc == expected_rc, f"`{cmd}`: exit {rc}, expected {expected_rc}; stderr={err!r}"
    assert len(lines) == 1, f"`{cmd}`: expected exactly one stderr line, got {lines!r}"
    assert lines[0].startswith("orbitmesh: error:"), \
        f"`{cmd}`: stderr line does not start with 'orbitmesh: error:': {lines[0]!r}"
    return lines[0]


# --------------------------------------------------------------------------------------------
# store

def assert_store_verifies(mesh, data_dir):
    """`orbitmesh replay --verify` on a data dir (a hub may still run on it): every projection
    matches its events. Used after the kill -9 fault tests."""
    where = ("--store", mesh.store_url) if mesh.store_url else ("--data-dir", data_dir)
    rc, out, err = mesh.cli("replay", "--verify", *where, timeout=120)
    assert rc == 0, f"replay --verify {' '.join(where)}: exit {rc}\n{out}\n{err}"
    assert "the store matches its events" in out, out

def is_postgres_url(store):
    return str(store).startswith(("postgres://", "postgresql://"))


def psql_rows(url, sql, timeout=30.0):
    """Runs SQL on a PostgreSQL database; the rows as lists of text cells."""
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", url, "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"psql {url}: {sql}: exit {r.returncode}: {r.stderr.strip()}")
    return [line.split("\t") for line in r.stdout.splitlines() if line != ""]


def read_events(db_path, job_ids=None):
    """Rows of the events table: list of (seq, stream, version, type). Read-only. `db_path` is a
    SQLite file or a PostgreSQL store's URL (Hub.db_path gives either)."""
    if is_postgres_url(db_path):
        rows = [(int(q), st, int(v), t) for q, st, v, t in
                psql_rows(db_path, "SELECT seq, stream, version, type FROM events ORDER BY seq")]
    else:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("SELECT seq, stream, version, type FROM events ORDER BY seq").fetchall()
        finally:
            conn.close()
    if job_ids is not None:
        streams = {f"job-{j}" for j in job_ids}
        rows = [r for r in rows if r[1] in streams]
    return rows


def assert_ran_once_each(ledger, tokens):
    """Every token in the ledger file (one line per run of a job) exactly once."""
    with open(ledger, encoding="utf-8") as f:
        lines = collections.Counter(line.strip() for line in f if line.strip())
    twice = {t: n for t, n in lines.items() if n != 1}
    missing = set(tokens) - set(lines)
    assert not twice, f"jobs that ran more than once: {twice}"
    assert not missing, f"jobs that never ran: {sorted(missing)[:10]}"


def terminal_events_by_job(db_path, job_ids):
    """{job_id: [event types that record a final outcome]} for the given jobs."""
    out = {j: [] for j in job_ids}
    all_types = {}
    for _, stream, _, etype in read_events(db_path, job_ids):
        jid = stream[len("job-"):]
        all_types.setdefault(jid, []).append(etype)
        if etype in TERMINAL_EVENT_TYPES:
            out[jid].append(etype)
    return out, all_types


# --------------------------------------------------------------------------------------------
# raw WebSocket client (websocket-client + msgpack)

class RawClient:
    def __init__(self, ws_url, timeout=5.0):
        import websocket  # python3-websocket
        self._websocket = websocket
        self.ws = websocket.create_connection(ws_url, subprotocols=["orbitmesh.msgpack"],
                                              timeout=timeout)

    @property
    def subprotocol(self):
        return self.ws.getsubprotocol()

    def send(self, msg):
        import msgpack
        self.ws.send_binary(msgpack.packb(msg, use_bin_type=True))

    def send_raw(self, data):
        self.ws.send_binary(data)

    def recv_messages(self, timeout=5.0):
        """Next frame's messages (a list), or ('close', code, reason) when the hub closes."""
        import msgpack
        self.ws.settimeout(timeout)
        opcode, frame = self.ws.recv_data_frame(control_frame=False)
        if opcode == self._websocket.ABNF.OPCODE_CLOSE:
            return ("close",) + parse_close(frame.data)
        value = msgpack.unpackb(frame.data, raw=False, strict_map_key=False)
        return value if isinstance(value, list) else [value]

    def wait_for(self, pred, timeout, what):
        """Reads messages until pred(msg) holds; bounded in time and in frames."""
        deadline = time.monotonic() + timeout
        seen = []
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msgs = self.recv_messages(timeout=left)
            except self._websocket.WebSocketTimeoutException:
                break
            if isinstance(msgs, tuple):
                raise AssertionError(f"hub closed the connection {msgs[1:]} while waiting for "
                                     f"{what}; seen {seen!r}")
            for m in msgs:
                seen.append(m)
                if isinstance(m, dict) and pred(m):
                    return m, seen
        return None, seen

    def wait_close(self, timeout=10.0):
        """Reads until the hub's close frame; returns (code, reason). Bounded."""
        deadline = time.monotonic() + timeout
        seen = []
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msgs = self.recv_messages(timeout=left)
            except self._websocket.WebSocketTimeoutException:
                break
            except (self._websocket.WebSocketConnectionClosedException, ConnectionError,
                    OSError) as exc:
                raise AssertionError(f"connection dropped without a close frame ({exc!r}); "
                                     f"seen {seen!r}") from None
            if isinstance(msgs, tuple):
                return msgs[1], msgs[2]
            seen.extend(msgs)
        raise AssertionError(f"no close frame within {timeout}s; seen {seen!r}")

    def close(self):
        try:
            self.ws.close(timeout=1)
        except Exception:  # noqa: BLE001
            pass


def parse_close(data):
    if not data or len(data) < 2:
        return (None, "")
    code = int.from_bytes(data[:2], "big")
    return (code, data[2:].decode("utf-8", "replace"))


def hello(agent_id, name, running=(), handlers=("echo",), capabilities=(), concurrency=1):
    return {"t": "hello", "protocol": 1, "agent_id": agent_id, "name": name, "tags": {},
            "capabilities": list(capabilities), "handlers": list(handlers),
            "concurrency": concurrency, "version": "e2e-raw-client",
            "running": [dict(r) for r in running]}


# --------------------------------------------------------------------------------------------
# keep-alive HTTP client for many submits

class KeepAliveClient:
    """One persistent HTTP/1.1 connection; reconnects once on a dropped connection.

    Only use it for requests that are safe to repeat (GETs, or submits carrying an
    idempotency key)."""

    def __init__(self, port, timeout=30.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, (json.loads(text) if text else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


FAST_RECONNECT = ["--reconnect-min", "100ms", "--reconnect-max", "500ms"]


def job_agent_name(rec):
    agent = rec.get("agent") or {}
    return agent.get("name")


def list_from(body, key):
    """`{"key": [...]}` or a bare list."""
    if isinstance(body, dict):
        return body[key]
    assert isinstance(body, list), f"expected a list or {{{key!r}: [...]}}, got {body!r}"
    return body


def find_sleep_procs(agent_pid, arg):
    """Descendants of agent_pid running `sleep ARG`."""
    out = []
    for pid, argv in descendant_cmdlines(agent_pid).items():
        if len(argv) >= 2 and os.path.basename(argv[0]) == "sleep" and argv[-1] == str(arg):
            out.append(pid)
    return out
