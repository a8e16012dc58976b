#!/usr/bin/python3
"""Idle-agent simulator: holds N WebSocket connections to a hub's `/mesh` (subprotocol
`orbitmesh.json`, text frames of JSON), each sending `hello` and then a heartbeat every
`heartbeat_ms` from the `welcome` (the first one at a random phase, so the agents do not beat
together). A lost connection reconnects after decorrelated jitter between --reconnect-min and
--reconnect-max exactly as the real agent does (engine/agent/reconnect_backoff.cpp: the first
delay after a loss is uniform(min, 3*min), each next one uniform(min, 3*previous), capped at
max; a welcome resets it), with the same agent_id, so the hub sees a returning agent.

Standard library only, and cheap per agent so that the hub, not the simulator, is what gets
measured: one non-blocking socket per agent on one epoll loop (no asyncio task, transport or
extra descriptor per agent), timers in one heap, the handshake and the frame codec written out
below. At most --parallel-connects agents are between connect() and welcome at a time (the
others wait their turn); `--parallel-connects 0` lets every agent go at once like real agents.

Usage: /usr/bin/python3 bench/agent_sim.py --port P --agents N [--duration S]
                        [--parallel-connects K] [--source-addrs K]

Stdout, one line each; every time stamp T is time.monotonic() (CLOCK_MONOTONIC, the same clock
as the bench's own time.monotonic()):
  `status T connected N connects M failures F`   when the counts change (at most every 0.25 s)
  `all T N`                                      the moment all N agents have their welcome
  `lost T N`                                     the moment the count drops from N
Exits after --duration seconds or on SIGTERM / SIGINT.
"""

import argparse
import base64
import errno
import heapq
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import sys
import time
import uuid

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux >= 4.2
HEARTBEAT = b'{"t":"heartbeat","load":{"cpu":0,"mem":0,"running":0}}'

# connection phases
IDLE, CONNECTING, HANDSHAKE, HELLO, READY = range(5)
# timer kinds
T_CONNECT, T_BEAT, T_TIMEOUT = range(3)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def xor(data, mask):
    n = len(data)
    if not n:
        return b""
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")


def frame(payload, opcode=0x1):
    """One masked client frame (a fresh random mask)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    mask = os.urandom(4)
    return head + mask + xor(payload, mask)


class Agent:
    __slots__ = ("idx", "agent_id", "hello", "hb", "local", "sock", "fd", "phase", "buf", "sleep",
                 "gen", "hb_s", "gated")

    def __init__(self, idx, source_addrs):
        self.idx = idx
        self.agent_id = str(uuid.uuid4())
        hello = {"t": "hello", "protocol": 1, "agent_id": self.agent_id, "name": f"sim-{idx}",
                 "tags": {}, "capabilities": [], "handlers": ["echo"], "concurrency": 1,
                 "version": "sim", "running": []}
        self.hello = frame(json.dumps(hello, separators=(",", ":")).encode())
        self.hb = frame(HEARTBEAT)  # one mask per agent: the hub unmasks it all the same
        self.local = f"127.0.0.{1 + idx % source_addrs}" if source_addrs > 1 else None
        self.sock, self.fd, self.phase, self.buf = None, -1, IDLE, b""
        self.sleep, self.gen, self.hb_s, self.gated = 0.0, 0, 5.0, False


class Sim:
    def __init__(self, args):
        self.a = args
        self.addr = ("127.0.0.1", args.port)
        self.request_head = (f"GET /mesh HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Protocol: orbitmesh.json\r\nSec-WebSocket-Key: ")
        self.limit = args.parallel_connects or args.agents
        self.agents = [Agent(i, args.source_addrs) for i in range(args.agents)]
        self.ep = select.epoll()
        self.by_fd = {}
        self.timers = []  # (when, seq, kind, agent, gen)
        self.seq = 0
        self.waiting = list(reversed(self.agents))  # popped from the end: agent 0 first
        self.in_flight = 0
        self.connected = self.connects = self.failures = 0
        self.stopping = False
        self.last_status = None

    # --- timers -------------------------------------------------------------------------------

    def at(self, delay, kind, agent):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, kind, agent, agent.gen))

    def run_timers(self, now):
        t = self.timers
        while t and t[0][0] <= now:
            _, _, kind, agent, gen = heapq.heappop(t)
            if gen != agent.gen:
                continue  # that connection is gone
            if kind == T_BEAT:
                if agent.phase == READY:
                    self.send(agent, agent.hb)
                    if agent.phase == READY:
                        self.at(agent.hb_s, T_BEAT, agent)
            elif kind == T_CONNECT:
                self.waiting.append(agent)
            elif kind == T_TIMEOUT and agent.phase in (CONNECTING, HANDSHAKE, HELLO):
                self.ended(agent)

    # --- connections --------------------------------------------------------------------------

    def pump(self):
        while self.waiting and self.in_flight < self.limit and not self.stopping:
            self.connect(self.waiting.pop())

    def connect(self, agent):
        agent.gen += 1
        agent.phase = CONNECTING
        agent.gated = True
        agent.buf = b""
        self.in_flight += 1
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        except OSError:
            self.ended(agent)
            return
        agent.sock, agent.fd = s, s.fileno()
        self.by_fd[agent.fd] = agent
        self.at(10.0, T_TIMEOUT, agent)
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if agent.local:
                # the port is chosen at connect() with the whole 4-tuple known: ~28,000
                # connections per source address instead of per machine
                s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                s.bind((agent.local, 0))
            rc = s.connect_ex(self.addr)
        except OSError:
            self.ended(agent)
            return
        if rc not in (0, errno.EINPROGRESS):
            self.ended(agent)
            return
        self.ep.register(agent.fd, select.EPOLLOUT)

    def send(self, agent, data):
        try:
            if agent.sock.send(data) == len(data):
                return
        except BlockingIOError:
            pass
        except OSError:
            self.ended(agent)
            return
        self.ended(agent)  # a full socket buffer on an idle agent: treat it as lost

    def on_event(self, agent, ev):
        if agent.phase == CONNECTING:
            err = agent.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err or ev & (select.EPOLLERR | select.EPOLLHUP):
                self.ended(agent)
                return
            agent.phase = HANDSHAKE
            self.ep.modify(agent.fd, select.EPOLLIN)
            key = base64.b64encode(os.urandom(16)).decode()
            self.send(agent, (self.request_head + key + "\r\n\r\n").encode())
            return
        try:
            data = agent.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.ended(agent)
            return
        buf = agent.buf + data if agent.buf else data
        if agent.phase == HANDSHAKE:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                agent.buf = buf
                return
            if b" 101 " not in buf[:buf.find(b"\r\n")]:
                self.ended(agent)
                return
            buf = buf[end + 4:]
            agent.phase = HELLO
            self.send(agent, agent.hello)
        while len(buf) >= 2 and agent.phase >= HELLO:
            b0, b1 = buf[0], buf[1]
            n, pos = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, pos = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            masked = b1 & 0x80
            if len(buf) < pos + (4 if masked else 0) + n:
                break
            if masked:
                payload = xor(buf[pos + 4:pos + 4 + n], buf[pos:pos + 4])
                pos += 4
            else:
                payload = buf[pos:pos + n]
            buf = buf[pos + n:]
            self.on_frame(agent, b0 & 0x0F, payload)
        agent.buf = buf if agent.phase >= HELLO else b""

    def on_frame(self, agent, opcode, payload):
        if opcode == 0x1 and agent.phase == HELLO and b'"welcome"' in payload:
            msg = json.loads(payload)
            for m in (msg if isinstance(msg, list) else [msg]):
                if isinstance(m, dict) and m.get("t") == "welcome":
                    self.welcomed(agent, int(m.get("heartbeat_ms") or 5000))
                    return
        elif opcode == 0x9:
            self.send(agent, frame(payload, 0xA))
        elif opcode == 0x8:
            self.send(agent, frame(payload[:2], 0x8))
            self.ended(agent)

    def welcomed(self, agent, hb_ms):
        agent.phase = READY
        agent.sleep = 0.0
        agent.gen += 1  # drops the handshake timeout
        self.ungate(agent)
        self.connects += 1
        self.set_connected(self.connected + 1)
        agent.hb_s = hb_ms / 1000.0
        self.at(random.uniform(0, agent.hb_s), T_BEAT, agent)

    def ungate(self, agent):
        if agent.gated:
            agent.gated = False
            self.in_flight -= 1

    def ended(self, agent):
        if agent.phase == IDLE:
            return
        if agent.phase == READY:
            self.set_connected(self.connected - 1)
        else:
            self.failures += 1
        agent.phase = IDLE
        agent.gen += 1
        agent.buf = b""
        self.ungate(agent)
        if agent.sock is not None:
            self.by_fd.pop(agent.fd, None)
            try:
                self.ep.unregister(agent.fd)
            except (OSError, ValueError):
                pass
            agent.sock.close()
            agent.sock, agent.fd = None, -1
        if self.stopping:
            return
        # decorrelated jitter, as reconnect_backoff::next(): uniform(min, min(max, 3 * previous))
        lo, hi = self.a.reconnect_min, self.a.reconnect_max
        agent.sleep = random.uniform(lo, max(lo, min(hi, 3 * (agent.sleep or lo))))
        self.at(agent.sleep, T_CONNECT, agent)

    # --- reporting and the loop ---------------------------------------------------------------

    def set_connected(self, n):
        full = self.a.agents
        if n == full and self.connected < full:
            print(f"all {time.monotonic():.4f} {full}", flush=True)
        elif n < full and self.connected == full:
            print(f"lost {time.monotonic():.4f} {full}", flush=True)
        self.connected = n

    def status(self):
        now = (self.connected, self.connects, self.failures)
        if now != self.last_status:
            self.last_status = now
            print(f"status {time.monotonic():.4f} connected {self.connected} connects "
                  f"{self.connects} failures {self.failures}", flush=True)

    def run(self):
        def stop(*_):
            self.stopping = True
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        end = time.monotonic() + self.a.duration
        next_status = 0.0
        by_fd, on_event = self.by_fd, self.on_event
        while not self.stopping:
            self.pump()
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_status:
                self.status()
                next_status = now + 0.25
            wait = min(next_status, end) - now
            if self.timers:
                wait = min(wait, self.timers[0][0] - now)
            for fd, ev in self.ep.poll(max(0.0, wait), 4096):
                agent = by_fd.get(fd)
                if agent is not None:
                    on_event(agent, ev)
            self.run_timers(time.monotonic())
        self.stopping = True
        for agent in self.agents:
            if agent.sock is not None:
                agent.sock.close()
        self.status()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--reconnect-min", type=float, default=0.1)
    ap.add_argument("--reconnect-max", type=float, default=5.0)
    ap.add_argument("--parallel-connects", type=int, default=0,
                    help="agents at most between connect() and welcome at a time (0: no limit)")
    ap.add_argument("--source-addrs", type=int, default=1,
                    help="spread the agents over 127.0.0.1..127.0.0.K as source addresses "
                         "(~28,000 ephemeral ports each; needed past that many agents)")
    args = ap.parse_args()
    if not 1 <= args.source_addrs <= 254:
        ap.error("--source-addrs must be 1..254")
    if args.parallel_connects < 0:
        ap.error("--parallel-connects must be 0 (no limit) or more")
    limit = raise_nofile(args.agents + 64)
    if limit < args.agents + 16:
        print(f"agent_sim: fd limit {limit} is below {args.agents} agents", file=sys.stderr)
    Sim(args).run()


if __name__ == "__main__":
    main()
