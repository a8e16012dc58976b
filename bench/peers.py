"""Peers measured side by side (bench/run --peers): gearmand and beanstalkd, each started on
loopback by the bench and stopped by its PID, spoken to with hand-written protocol clients
(standard library only). Two worker threads; clients submit one job at a time.
A peer that is not installed is skipped with the reason (the bench installs nothing)."""

import os
import shutil
import socket
import struct
import subprocess
import threading
import time

from e2e_throughput import stop_process as stop


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
            raise RuntimeError(f"{argv[0]} exited {p.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    stop(p)
    raise RuntimeError(f"{argv[0]} did not listen on {port}")




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


class Gear(Sock):
    def send(self, typ, *args):
        data = b"\0".join(args)
        self.s.sendall(b"\0REQ" + struct.pack("!II", typ, len(data)) + data)

    def recv(self):
        magic, typ, n = struct.unpack("!4sII", self.exact(12))
        return typ, self.exact(n)


def gear_worker(port, stop_ev):
    g = Gear(port)
    g.s.settimeout(1.0)
    g.send(CAN_DO, b"echo")
    try:
        while not stop_ev.is_set():
            g.send(GRAB_JOB)
            typ, data = g.recv()
            if typ == JOB_ASSIGN:
                handle, _fn, payload = data.split(b"\0", 2)
                g.send(WORK_COMPLETE, handle, payload)
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
                raise RuntimeError(f"gearmand answered {typ} to SUBMIT_JOB")
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
        stop_ev.set()
        stop(p)
        for w in workers:
            w.join(3)
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
                    raise RuntimeError("beanstalkd: delete failed")
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
                    raise RuntimeError("beanstalkd: put failed")
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
            stop_ev.set()
            stop(p)
            for w in ws:
                w.join(3)
    return rows


SUITES = [("gearmand", gearman_suite), ("beanstalkd", beanstalk_suite), ("celery", None)]


def missing(name):
    if name == "celery":
        return "Celery+Redis driver not written yet (needs python3-celery, python3-redis, redis-server)"
    need = {"gearmand": ("gearmand", "Debian package gearman-job-server"),
            "beanstalkd": ("beanstalkd", "Debian package beanstalkd")}[name]
    if shutil.which(need[0]) is None and not os.path.exists("/usr/sbin/" + need[0]):
        return f"{need[0]} not installed ({need[1]})"
    return None
