#!/usr/bin/python3
"""Idle-agent simulator: holds N WebSocket connections to a hub's `/mesh` (subprotocol
`orbitmesh.json`, text frames of JSON), each sending `hello` and then a heartbeat every
`heartbeat_ms` from the `welcome`. A closed connection reconnects after decorrelated jitter
between --reconnect-min and --reconnect-max (the same agent_id, so the hub sees a returning
agent). Standard library only: the handshake and the frame codec are written out below.

Usage: /usr/bin/python3 bench/agent_sim.py --port P --agents N [--duration S]
Prints `connected N` lines on stdout as counts change (for humans; the bench counts through
GET /api/v1/agents). Exits after --duration seconds or on SIGTERM.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import signal
import struct
import sys
import uuid


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def frame(payload, opcode=0x1):
    """One masked client frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    mask = os.urandom(4)
    # XOR with the mask via int arithmetic (fast enough for small frames)
    m = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
    return head + mask + masked


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    opcode = b0 & 0x0F
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    if b1 & 0x80:
        mask = await reader.readexactly(4)
        data = bytearray(await reader.readexactly(n))
        for i in range(n):
            data[i] ^= mask[i % 4]
        data = bytes(data)
    else:
        data = await reader.readexactly(n)
    return opcode, data


class Sim:
    def __init__(self, args):
        self.args = args
        self.connected = 0
        self.connects = 0
        self.stop = asyncio.Event()
        self.gate = asyncio.Semaphore(args.parallel_connects)

    async def one(self, idx):
        agent_id = str(uuid.uuid4())
        a = self.args
        sleep = a.reconnect_min
        first = True
        while not self.stop.is_set():
            if not first:
                # decorrelated jitter: sleep = min(max, uniform(min, 3 * previous))
                sleep = min(a.reconnect_max, random.uniform(a.reconnect_min, sleep * 3))
                try:
                    await asyncio.wait_for(self.stop.wait(), sleep)
                    return
                except asyncio.TimeoutError:
                    pass
            first = False
            writer = None
            registered = False
            try:
                async with self.gate:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", a.port), 10)
                    key = base64.b64encode(os.urandom(16)).decode()
                    writer.write((f"GET /mesh HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Protocol: orbitmesh.json\r\n\r\n").encode())
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                    if b" 101 " not in head.split(b"\r\n", 1)[0]:
                        raise ConnectionError(head[:200])
                    hello = {"t": "hello", "protocol": 1, "agent_id": agent_id,
                             "name": f"sim-{idx}", "tags": {}, "capabilities": [],
                             "handlers": ["echo"], "concurrency": 1, "version": "sim",
                             "running": []}
                    writer.write(frame(json.dumps(hello).encode()))
                    hb_ms = 5000
                    for _ in range(100):
                        op, data = await asyncio.wait_for(read_frame(reader), 10)
                        if op == 0x8:
                            raise ConnectionError("closed before welcome")
                        if op == 0x1:
                            msg = json.loads(data)
                            if isinstance(msg, list):
                                msg = msg[0] if msg else {}
                            if msg.get("t") == "welcome":
                                hb_ms = int(msg.get("heartbeat_ms") or 5000)
                                break
                    else:
                        raise ConnectionError("no welcome")
                registered = True
                self.connected += 1
                self.connects += 1
                sleep = a.reconnect_min
                hb = frame(b'{"t":"heartbeat","load":{"cpu":0,"mem":0,"running":0}}')
                reader_task = asyncio.ensure_future(self.drain(reader, writer))
                try:
                    # first heartbeat at a random phase so 10,000 agents do not beat together
                    delay = random.uniform(0, hb_ms / 1000.0)
                    while not self.stop.is_set() and not reader_task.done():
                        done, _ = await asyncio.wait([reader_task], timeout=delay)
                        if done:
                            break
                        writer.write(hb)
                        await writer.drain()
                        delay = hb_ms / 1000.0
                finally:
                    reader_task.cancel()
            except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                    ValueError):
                pass
            finally:
                if registered:
                    self.connected -= 1
                if writer is not None:
                    writer.close()

    async def drain(self, reader, writer):
        """Reads server frames; answers pings; returns on close or EOF."""
        while True:
            op, data = await read_frame(reader)
            if op == 0x8:
                return
            if op == 0x9:
                writer.write(frame(data, 0xA))

    async def report(self):
        last = None
        while not self.stop.is_set():
            if self.connected != last:
                last = self.connected
                print(f"connected {last} connects {self.connects}", flush=True)
            try:
                await asyncio.wait_for(self.stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    async def main(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        loop.add_signal_handler(signal.SIGINT, self.stop.set)
        loop.call_later(self.args.duration, self.stop.set)
        tasks = [asyncio.ensure_future(self.one(i)) for i in range(self.args.agents)]
        tasks.append(asyncio.ensure_future(self.report()))
        await self.stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--reconnect-min", type=float, default=0.1)
    ap.add_argument("--reconnect-max", type=float, default=5.0)
    ap.add_argument("--parallel-connects", type=int, default=256)
    args = ap.parse_args()
    limit = raise_nofile(args.agents + 256)
    if limit < args.agents + 32:
        print(f"agent_sim: fd limit {limit} is below {args.agents} agents", file=sys.stderr)
    asyncio.run(Sim(args).main())


if __name__ == "__main__":
    main()
