"""Small peers of `bench/proxy-matrix.py` that wrk cannot be:

- `idle_upstream(port)`: answers every request with a standalone SSE stream (one `: ok`
  comment, then a `: ping` every HEARTBEAT_S) and holds it until the other side closes;
- `hold_streams(host, port, path, n)`: opens n GET streams, waits until each has its first
  comment end to end, prints `ready`, and closes them all when stdin closes or says `close`;
- `sse_timings(host, port, path, n, body)`: n POSTs one after another on one keep-alive
  connection, time to the first SSE event and to the end of the answer of each.
"""

import asyncio
import socket
import sys
import time

SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
COMMENT = b": ok\n\n"
PING = b": ping\n\n"
HEARTBEAT_S = 5.0


def idle_upstream(port):
    async def serve(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                writer.write(SSE_HEAD + b"%x\r\n" % len(COMMENT) + COMMENT + b"\r\n")
                await writer.drain()
                while True:  # until the proxy lets go of the stream (EOF)
                    try:
                        if not await asyncio.wait_for(reader.read(1), HEARTBEAT_S):
                            return
                    except asyncio.TimeoutError:
                        # A heartbeat, as SSE servers send: a proxy that only learns of a
                        # client's end when it writes (HAProxy) lets go within one.
                        writer.write(b"%x\r\n" % len(PING) + PING + b"\r\n")
                        await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def hold_streams(host, port, path, n):
    deadline_s = 60.0 + n / 100.0
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
               f"MCP-Protocol-Version: 2025-11-25\r\n\r\n").encode()

    async def one(sem):
        async with sem:  # no more than 512 handshakes in flight: the listen backlogs are finite
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            buf = b""
            while COMMENT not in buf:
                chunk = await reader.read(4096)
                if not chunk:
                    raise ConnectionError("stream closed before its first comment: %r" % buf[:200])
                buf += chunk
            return reader, writer

    async def main():
        sem = asyncio.Semaphore(512)
        t0 = time.monotonic()
        streams = await asyncio.wait_for(asyncio.gather(*(one(sem) for _ in range(n))),
                                         deadline_s)
        print("ready %d %.2f" % (len(streams), time.monotonic() - t0), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        for _, w in streams:
            w.close()
        await asyncio.sleep(0.2)

    try:
        asyncio.run(main())
    except Exception as e:  # reported to the runner, which counts it as a setup failure
        print("failed %r" % e, flush=True)
        sys.exit(1)


class _Conn:
    def __init__(self, host, port):
        self.addr = (host, port)
        self.sock = None
        self.reconnect()

    def reconnect(self):
        """A new connection (the first, or after an answer that said `Connection: close`)."""
        if self.sock:
            self.sock.close()
        self.sock = socket.create_connection(self.addr, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed mid-answer (last head: %r)" % getattr(self, "head", b""))
        self.buf += chunk

    def exchange(self, request):
        """Returns (ns to the first `data:` line, ns to the answer's end, status)."""
        t0 = time.perf_counter_ns()
        self.sock.sendall(request)
        first = None
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            fields[k.strip().lower()] = v.strip()
        if b"content-length" in fields:
            left = int(fields[b"content-length"])
            while True:
                if first is None and b"data:" in self.buf[:left]:
                    first = time.perf_counter_ns()
                if len(self.buf) >= left:
                    self.buf = self.buf[left:]
                    break
                self.fill()
        else:  # chunked
            while True:
                while b"\r\n" not in self.buf:
                    self.fill()
                size_line, rest = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    self.fill()
                    size_line, rest = self.buf.split(b"\r\n", 1)
                if first is None and b"data:" in rest[:size]:
                    first = time.perf_counter_ns()
                self.buf = rest[size + 2:]
                if size == 0:
                    break
        end = time.perf_counter_ns()
        if fields.get(b"connection", b"").lower() == b"close":
            self.reconnect()
        return (first or end) - t0, end - t0, status


def sse_timings(host, port, path, n, body):
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body.encode()
    conn = _Conn(host, port)
    first, last = [], []
    for _ in range(n):
        f, l, status = conn.exchange(request)
        if status != 200:
            raise RuntimeError("%s answered %d" % (path, status))
        first.append(f / 1000.0)
        last.append(l / 1000.0)
    conn.sock.close()
    return first, last


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "idle-upstream":
        idle_upstream(int(sys.argv[2]))
    elif cmd == "hold":
        hold_streams(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit("unknown command " + cmd)
