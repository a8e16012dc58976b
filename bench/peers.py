"""Peers measured side by side (bench/run --peers): gearmand (in memory and with its SQLite
queue), beanstalkd and Celery with Redis, each started on loopback by the bench and stopped by
its PID. gearmand and beanstalkd are spoken to with hand-written protocol clients (standard
library only, two worker threads); Celery runs its own worker (two pool processes) and client
processes written into the temp dir. Clients submit one job at a time.
A peer that is not installed is skipped with the reason (the bench installs nothing)."""

import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from e2e_throughput import stop_process as stop


class PeerError(subprocess.SubprocessError):
    """A peer misbehaved (bench/run reports SubprocessError as a failed scenario)."""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, log_path, port):
    log = open(log_path, "wb")
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    finally:
        log.close()
    deadline = time.monotonic() + 15
    for _ in range(300):
        if p.poll() is not None:
            raise PeerError(f"{argv[0]} exited {p.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    stop(p)
    raise PeerError(f"{argv[0]} did not listen on {port}")


def shut_down(p, stop_ev, workers):
    """Stops a peer's worker threads and the peer process (by its PID)."""
    stop_ev.set()
    stop(p)
    for w in workers:
        w.join(3)


def pct(vals, q):
    s = sorted(vals)
    return s[max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))] if s else float("nan")


def row(system, name, value, unit, config):
    return {"system": system, "name": name, "metric": name, "value": value, "unit": unit,
            "config": config}


class Sock:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def exact(self, n):
        while len(self.buf) < n:
            c = self.s.recv(65536)
            if not c:
                raise ConnectionError("peer closed")
            self.buf += c
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\r\n" not in self.buf:
            c = self.s.recv(65536)
            if not c:
                raise ConnectionError("peer closed")
            self.buf += c
        out, _, self.buf = self.buf.partition(b"\r\n")
        return out


# ---------------------------------------------------------------------------------------------
# gearmand: binary protocol (\0REQ / \0RES, type, size, NUL-separated args)

CAN_DO, PRE_SLEEP, NOOP, SUBMIT_JOB, JOB_CREATED, GRAB_JOB, NO_JOB, JOB_ASSIGN, WORK_COMPLETE = \
    1, 4, 6, 7, 8, 9, 10, 11, 13
SUBMIT_JOB_BG = 18


class Gear(Sock):
    def send(self, typ, *args):
        data = b"\0".join(args)
        self.s.sendall(b"\0REQ" + struct.pack("!II", typ, len(data)) + data)

    def recv(self):
        magic, typ, n = struct.unpack("!4sII", self.exact(12))
        return typ, self.exact(n)


def gear_worker(port, stop_ev, done=None):
    """done: optional [count] of completed jobs, counted when gearmand answers the GRAB_JOB that
    follows a WORK_COMPLETE on this connection (so the server has processed it, queue delete
    included)."""
    g = Gear(port)
    g.s.settimeout(1.0)
    g.send(CAN_DO, b"echo")
    completed = 0
    try:
        while not stop_ev.is_set():
            g.send(GRAB_JOB)
            typ, data = g.recv()
            if completed and done is not None:
                done[0] += completed  # one writer per slot
            completed = 0
            if typ == JOB_ASSIGN:
                handle, _fn, payload = data.split(b"\0", 2)
                g.send(WORK_COMPLETE, handle, payload)
                completed = 1
            elif typ == NO_JOB:
                g.send(PRE_SLEEP)
                while not stop_ev.is_set():
                    try:
                        typ, _ = g.recv()
                    except socket.timeout:
                        continue
                    if typ == NOOP:
                        break
    except (OSError, ConnectionError):
        pass
    finally:
        g.s.close()


def gear_client(port, seconds, max_jobs, rtts):
    g = Gear(port)
    n = 0
    end = time.perf_counter() + seconds
    try:
        while n < max_jobs:
            s = time.perf_counter()
            g.send(SUBMIT_JOB, b"echo", b"", b"x")
            typ, handle = g.recv()
            if typ != JOB_CREATED:
                raise PeerError(f"gearmand answered {typ} to SUBMIT_JOB")
            while True:
                typ, data = g.recv()
                if typ == WORK_COMPLETE:
                    break
            e = time.perf_counter()
            if rtts is not None:
                rtts.append((e - s) * 1000)
            n += 1
            if e > end:
                break
    finally:
        g.s.close()
    return n


def gearman_suite(tmp, quick):
    seconds = 3 if quick else 10
    port = free_port()
    d = os.path.join(tmp, "gearmand")
    os.makedirs(d, exist_ok=True)
    p = start(["gearmand", "--listen", "127.0.0.1", "--port", str(port), "--threads", "1",
               "--log-file", os.path.join(d, "gearmand.log"), "--verbose", "ERROR"],
              os.path.join(d, "out.log"), port)
    stop_ev = threading.Event()
    workers = [threading.Thread(target=gear_worker, args=(port, stop_ev), daemon=True)
               for _ in range(2)]
    rows = []
    try:
        for w in workers:
            w.start()
        gear_client(port, 0.5, 2000, None)  # warm-up
        for clients in (1, 4):
            counts = [0] * clients
            rtts = []
            t0 = time.perf_counter()
            ts = [threading.Thread(target=lambda k=k: counts.__setitem__(
                k, gear_client(port, seconds, 10 ** 6, rtts if clients == 1 else None)))
                for k in range(clients)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(seconds + 60)
            el = time.perf_counter() - t0
            cfg = {"queue": "memory", "workers": 2, "clients": clients, "jobs": sum(counts),
                   "mode": f"{clients} client" + ("s" if clients > 1 else "")}
            rows.append(row("gearmand", "serial_throughput", round(sum(counts) / el, 1),
                            "jobs/s", cfg))
            if clients == 1:
                rows.append(row("gearmand", "roundtrip_p50", round(pct(rtts, .5), 3), "ms", cfg))
                rows.append(row("gearmand", "roundtrip_p99", round(pct(rtts, .99), 3), "ms", cfg))
    finally:
        shut_down(p, stop_ev, workers)
    return rows


def gear_bg_client(port, seconds, max_jobs):
    """Background jobs, one at a time: each SUBMIT_JOB_BG waits for JOB_CREATED, which gearmand
    sends after the job is in its persistent queue (foreground jobs never reach that queue)."""
    g = Gear(port)
    n = 0
    end = time.perf_counter() + seconds
    try:
        while n < max_jobs and time.perf_counter() < end:
            g.send(SUBMIT_JOB_BG, b"echo", b"", b"x")
            typ, _ = g.recv()
            if typ != JOB_CREATED:
                raise PeerError(f"gearmand answered {typ} to SUBMIT_JOB_BG")
            n += 1
    finally:
        g.s.close()
    return n


def gearman_sqlite_suite(tmp, quick):
    """gearmand -q libsqlite3: gearmand persists only background jobs, so clients submit
    SUBMIT_JOB_BG one at a time (waiting for JOB_CREATED) and the clock runs until the two
    workers have completed every job (each completion deletes the job from SQLite)."""
    seconds = 3 if quick else 10
    port = free_port()
    d = os.path.join(tmp, "gearmand-sqlite")
    os.makedirs(d, exist_ok=True)
    db = os.path.join(d, "queue.sqlite3")
    p = start(["gearmand", "--listen", "127.0.0.1", "--port", str(port), "--threads", "1",
               "-q", "libsqlite3", "--libsqlite3-db", db,
               "--log-file", os.path.join(d, "gearmand.log"), "--verbose", "ERROR"],
              os.path.join(d, "out.log"), port)
    stop_ev = threading.Event()
    done = [[0], [0]]
    workers = [threading.Thread(target=gear_worker, args=(port, stop_ev, done[k]), daemon=True)
               for k in range(2)]
    rows = []

    def finished():
        return done[0][0] + done[1][0]

    def drain(target, what):
        deadline = time.monotonic() + 60
        while finished() < target:
            if time.monotonic() > deadline:
                raise PeerError(f"gearmand (sqlite): {what}: {finished()} of {target} jobs "
                                "completed after 60 s")
            time.sleep(0.001)

    try:
        for w in workers:
            w.start()
        base = gear_bg_client(port, 0.3, 100)  # warm-up
        drain(base, "warm-up")
        for clients in (1, 4):
            start_done = finished()
            counts, errors = [0] * clients, []

            def client(k):
                try:
                    counts[k] = gear_bg_client(port, seconds, 10 ** 6)
                except (OSError, PeerError) as e:
                    errors.append(e)

            t0 = time.perf_counter()
            ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(seconds + 60)
            if errors:
                raise PeerError(f"gearmand (sqlite) client: {errors[0]}")
            drain(start_done + sum(counts), f"{clients} client(s)")
            el = time.perf_counter() - t0
            cfg = {"queue": "sqlite", "workers": 2, "clients": clients, "jobs": sum(counts),
                   "mode": f"sqlite queue, {clients} client" + ("s" if clients > 1 else ""),
                   "note": "SUBMIT_JOB_BG one at a time (only background jobs are persisted); "
                           "clock until workers completed all"}
            rows.append(row("gearmand", "serial_throughput", round(sum(counts) / el, 1),
                            "jobs/s", cfg))
    finally:
        shut_down(p, stop_ev, workers)
    return rows


# ---------------------------------------------------------------------------------------------
# beanstalkd: text protocol (put / reserve / delete)

def bs_worker(port, stop_ev, done):
    b = Sock(port)
    try:
        while not stop_ev.is_set():
            b.s.sendall(b"reserve-with-timeout 1\r\n")
            ln = b.line()
            if ln.startswith(b"RESERVED"):
                _, jid, size = ln.split()
                b.exact(int(size) + 2)
                b.s.sendall(b"delete " + jid + b"\r\n")
                if b.line() != b"DELETED":
                    raise PeerError("beanstalkd: delete failed")
                done[0] += 1  # one writer per slot; the GIL keeps += atomic enough here
    except (OSError, ConnectionError):
        pass
    finally:
        b.s.close()


def beanstalk_suite(tmp, quick):
    seconds = 3 if quick else 10
    rows = []
    for mode, extra in (("memory", []), ("binlog fsync<=50ms", ["-b", None, "-f", "50"]),
                        ("binlog fsync per write", ["-b", None, "-f", "0"])):
        d = os.path.join(tmp, "beanstalkd-" + mode.split()[0] + str(len(rows)))
        os.makedirs(d, exist_ok=True)
        extra = [d if x is None else x for x in extra]
        port = free_port()
        p = start(["beanstalkd", "-l", "127.0.0.1", "-p", str(port)] + extra,
                  os.path.join(d, "out.log"), port)
        stop_ev = threading.Event()
        done = [[0], [0]]
        ws = [threading.Thread(target=bs_worker, args=(port, stop_ev, done[k]), daemon=True)
              for k in range(2)]
        try:
            for w in ws:
                w.start()
            c = Sock(port)
            n = 0
            t0 = time.perf_counter()
            end = t0 + seconds
            while n < 10 ** 6 and time.perf_counter() < end:
                c.s.sendall(b"put 0 0 60 1\r\nx\r\n")
                if not c.line().startswith(b"INSERTED"):
                    raise PeerError("beanstalkd: put failed")
                n += 1
            deadline = time.monotonic() + 60
            while done[0][0] + done[1][0] < n and time.monotonic() < deadline:
                time.sleep(0.001)
            el = time.perf_counter() - t0
            c.s.close()
            rows.append(row("beanstalkd", "serial_throughput",
                            round((done[0][0] + done[1][0]) / el, 1), "jobs/s",
                            {"mode": mode, "workers": 2, "clients": 1, "jobs": n,
                             "note": "put one at a time; clock until workers deleted all"}))
        finally:
            shut_down(p, stop_ev, ws)
    return rows


# ---------------------------------------------------------------------------------------------
# Celery with Redis (broker and result backend): a worker with two pool processes and a no-op
# task; client processes each loop `noop.delay("x").get()` on a warm connection.

CELERY_MODULE = r"""# written by bench/peers.py: the Celery app for the worker, and the client loop
# (python3 celery_peer.py client WARMUP), driven over stdin/stdout by the bench.
import json, os, sys, time
from celery import Celery

URL = os.environ["ORBITMESH_BENCH_REDIS"]
app = Celery("orbitmesh_bench", broker=URL + "/0", backend=URL + "/1")
app.conf.update(result_expires=600, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)


@app.task(name="orbitmesh_bench.noop")
def noop(x):
    return x


def client(warmup):
    for _ in range(warmup):
        noop.delay("x").get(timeout=30)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if len(cmd) != 4 or cmd[0] != "run":
            break
        seconds, max_jobs, record = float(cmd[1]), int(cmd[2]), cmd[3] == "1"
        rtts, n = [], 0
        t0 = time.perf_counter()
        end = t0 + seconds
        while n < max_jobs:
            s = time.perf_counter()
            if noop.delay("x").get(timeout=30) != "x":
                sys.exit("celery client: wrong result")
            e = time.perf_counter()
            n += 1
            if record:
                rtts.append(round((e - s) * 1000, 4))
            if e > end:
                break
        print(json.dumps({"jobs": n, "seconds": time.perf_counter() - t0, "rtts": rtts}),
              flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["client"]:
    client(int(sys.argv[2]))
"""

_celery_python = None  # the interpreter that imports celery and redis (found by missing())
CELERY_POOL = "prefork"  # Celery's default pool: two child processes


def proc_start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(pid):
    """(pid, start time) of every live descendant of pid, from /proc."""
    kids = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(e))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            st = proc_start_time(c)
            if st is not None:
                out.append((c, st))
                todo.append(c)
    return out


def stop_tree(p):
    """Stop a process we started by its PID (SIGTERM: Celery's warm shutdown, which ends its
    pool), then SIGKILL any descendant that outlived it, by PID (start time checked)."""
    kids = descendants(p.pid) if p.poll() is None else []
    stop(p)
    deadline = time.monotonic() + 5
    while True:
        alive = [(c, st) for c, st in kids if proc_start_time(c) == st]
        if not alive:
            return
        if time.monotonic() > deadline:
            for c, _ in alive:
                try:
                    os.kill(c, signal.SIGKILL)
                except OSError:
                    pass
            return
        time.sleep(0.05)


class CeleryClient:
    """One client process; its stdout lines arrive on a queue (reads are bounded in time)."""

    def __init__(self, py, d, env, k, warmup):
        self.log = open(os.path.join(d, f"client{k}.log"), "wb")
        self.p = subprocess.Popen([py, os.path.join(d, "celery_peer.py"), "client", str(warmup)],
                                  cwd=d, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def line(self, timeout, what, check):
        """The next line, waiting at most timeout s; check() raises when the worker died."""
        deadline = time.monotonic() + timeout
        ln = None
        while time.monotonic() < deadline:
            check()
            try:
                ln = self.lines.get(timeout=0.2)
                break
            except queue.Empty:
                continue
        if ln is None:
            raise PeerError(f"celery client {self.p.pid}: no answer ({what}); see its log")
        return ln

    def send(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def close(self, deadline):
        """Close its stdin (the client then exits), wait until deadline, then stop it by PID."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        stop(self.p)
        self.log.close()


def celery_suite(tmp, quick):
    seconds = 3 if quick else 10
    max_clients = 4
    py = _celery_python or "/usr/bin/python3"
    d = os.path.join(tmp, "celery")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "celery_peer.py"), "w") as f:
        f.write(CELERY_MODULE)
    port = free_port()
    redis = start(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                   "--appendonly", "no", "--dir", d, "--daemonize", "no",
                   "--logfile", os.path.join(d, "redis.log")], os.path.join(d, "redis.out"), port)
    env = dict(os.environ, ORBITMESH_BENCH_REDIS=f"redis://127.0.0.1:{port}", PYTHONPATH=d,
               PYTHONDONTWRITEBYTECODE="1")
    worker, clients, rows = None, [], []
    try:
        wlog = open(os.path.join(d, "worker.out"), "wb")
        try:
            worker = subprocess.Popen(
                [py, "-m", "celery", "-A", "celery_peer", "worker", "--pool", CELERY_POOL,
                 "--concurrency", "2", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel", "WARNING", "-n", f"bench{port}@127.0.0.1",
                 "--logfile", os.path.join(d, "worker.log")],
                cwd=d, env=env, stdin=subprocess.DEVNULL, stdout=wlog, stderr=wlog)
        finally:
            wlog.close()

        def check():
            if worker.poll() is not None:
                raise PeerError(f"celery worker exited {worker.returncode}; see worker.log")

        clients = [CeleryClient(py, d, env, k, 200 if k == 0 else 50)
                   for k in range(max_clients)]
        for c in clients:  # the warm-up waits for the worker to be up
            if c.line(60, "warm-up", check).strip() != "ready":
                raise PeerError("celery client: unexpected output during warm-up")
        for n in (1, max_clients):
            t0 = time.perf_counter()
            for c in clients[:n]:
                c.send(f"run {seconds} 1000000 {1 if n == 1 else 0}")
            res = [json.loads(c.line(seconds + 60, "run", check)) for c in clients[:n]]
            el = time.perf_counter() - t0
            jobs = sum(r["jobs"] for r in res)
            cfg = {"broker": "redis", "backend": "redis", "pool": CELERY_POOL, "workers": 2,
                   "clients": n, "jobs": jobs, "mode": f"{n} client" + ("s" if n > 1 else ""),
                   "note": "client processes, each delay().get() one job at a time"}
            rows.append(row("celery", "serial_throughput", round(jobs / el, 1), "jobs/s", cfg))
            if n == 1:
                rtts = res[0]["rtts"]
                rows.append(row("celery", "roundtrip_p50", round(pct(rtts, .5), 3), "ms", cfg))
                rows.append(row("celery", "roundtrip_p99", round(pct(rtts, .99), 3), "ms", cfg))
    finally:
        for c in clients:
            try:
                c.p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + 3
        for c in clients:
            c.close(deadline)
        if worker is not None:
            stop_tree(worker)
        stop(redis)
    return rows


SUITES = [("gearmand", gearman_suite), ("gearmand-sqlite", gearman_sqlite_suite),
          ("beanstalkd", beanstalk_suite), ("celery", celery_suite)]


def installed(binary):
    return shutil.which(binary) is not None or any(
        os.path.exists(os.path.join(d, binary)) for d in ("/usr/sbin", "/usr/bin"))


def missing(name):
    """None when the peer can run, else why it is skipped."""
    global _celery_python
    if name == "celery":
        if not installed("redis-server"):
            return "redis-server not installed (Debian package redis-server)"
        why = "no python3"
        for py in dict.fromkeys((sys.executable, "/usr/bin/python3")):
            if not py or not os.path.exists(py):
                continue
            try:
                r = subprocess.run([py, "-c", "import celery, redis"], capture_output=True,
                                   text=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired) as e:
                why = f"{py}: {e}"
                continue
            if r.returncode == 0:
                _celery_python = py
                return None
            err = (r.stderr.strip().splitlines() or ["import failed"])[-1]
            pkg = "python3-redis" if "'redis'" in err else "python3-celery"
            why = f"{py} cannot import celery/redis ({err}; Debian package {pkg})"
        return why
    need = {"gearmand": ("gearmand", "Debian package gearman-job-server"),
            "gearmand-sqlite": ("gearmand", "Debian package gearman-job-server"),
            "beanstalkd": ("beanstalkd", "Debian package beanstalkd")}[name]
    if not installed(need[0]):
        return f"{need[0]} not installed ({need[1]})"
    if name == "gearmand-sqlite":
        try:
            r = subprocess.run(["gearmand", "--help"], capture_output=True, text=True,
                               timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"gearmand --help failed: {e}"
        if "libsqlite3-db" not in r.stdout + r.stderr:
            return "this gearmand was built without the libsqlite3 queue (no --libsqlite3-db)"
    return None
