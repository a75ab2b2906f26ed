"""py-asyncio, serve mode: asyncio.start_server with a hand-written
HTTP/1.1 parser, a coroutine per connection, the two lookups awaited on
asyncio streams from a pool of conns backend connections (params: conns).
One event loop: while a request awaits the backend, the loop serves the
others; the page's hashing and render run on the loop and block it.

Why start_server and not aiohttp: this is the asyncio model itself, as the
seed articles write it (streams, open_connection) and as py-asyncio runs
the closed batches, so the serve and batch figures measure one code path,
and uvloop's figure is the same server on another loop (what uvloop's own
vmbench compares). It needs only the standard library. And every bound of
the contract holds here, where Debian's aiohttp (3.8) would need patching
through its private parts: it bounds no request head in time (a new
connection's first head may trickle in for ever; later ones until
keepalive_timeout after the last response), nor a head's total size (only
each line's). The price: a minimal parser rather than a framework's; it
reads the request line and headers, and refuses what it does not serve."""

import asyncio
import os
import sys

import serve_ext as se
from concbench_ext import bulk_length, check_auth_reply, get_request

# ---------------------------------------------------------------- backend


class StreamBackendConn:
    """One backend connection on asyncio streams."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def dial(cls, addr, auth=b""):
        """Connects and, when auth is not empty, sends it and checks +OK."""
        conn = cls(*await asyncio.open_connection(*addr))
        if auth:
            try:
                conn.writer.write(auth)
                check_auth_reply(await conn.reader.readline())
            except BaseException:
                conn.close()
                raise
        return conn

    async def get(self, key):
        self.writer.write(get_request(key))
        n = bulk_length(await self.reader.readline())
        if n < 0:
            return None
        data = await self.reader.readexactly(n + 2)
        return data[:n]

    def close(self):
        self.writer.close()


class AsyncPool(se.EventLoopPool):
    """The Go servers' bounded pool on asyncio (se.EventLoopPool): a LIFO
    queue of size slots, each a connection or None (dial on use); a request
    waits up to the fetch timeout for a slot. A connection whose lookup
    broke, timed out or was cancelled is closed, its slot emptied."""

    def __init__(self, job, size):
        self.job = job
        self.slots = asyncio.LifoQueue()
        self.fill(size)

    async def take(self, timeout):
        async with asyncio.timeout(timeout):
            return await self.slots.get()

    def give_back(self, conn):
        self.slots.put_nowait(conn)

    async def dial(self):
        async with asyncio.timeout(self.job.fetch_timeout):
            return await StreamBackendConn.dial(self.job.backend, self.job.auth)

    async def get(self, conn, key):
        async with asyncio.timeout(self.job.fetch_timeout):
            return await conn.get(key)

    def discard(self, conn):
        conn.close()

    def close(self):
        while not self.slots.empty():
            conn = self.slots.get_nowait()
            if conn is not None:
                conn.close()


# ---------------------------------------------------------------- HTTP


class BadRequest(Exception):
    def __init__(self, status, why):
        super().__init__(why)
        self.status = status


MAX_HEADERS = 100  # http.client's bound, as the http.server models have


def parse_head(head):
    """Parses a request head (without its blank line): returns method,
    target, whether the connection stays open, and whether the response must
    say so (an HTTP/1.0 keep-alive). Raises BadRequest."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise BadRequest(400, "bad request line")
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise BadRequest(505 if version.startswith(b"HTTP/") else 400, "bad version")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest(431, "too many headers")
    conn = b""
    body = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name:
            raise BadRequest(400, "bad header line")
        name = name.lower()
        if name == b"connection":
            conn = value.lower()
        elif name == b"content-length":
            body = body or value.strip() != b"0"
        elif name == b"transfer-encoding":
            body = True
    tokens = [t.strip() for t in conn.split(b",")]
    if version == b"HTTP/1.1":
        keep, say = b"close" not in tokens, False
    else:
        keep = say = b"keep-alive" in tokens
    if method != b"GET":
        raise BadRequest(405, "only GET")
    if body:
        raise BadRequest(400, "a GET with a body")
    return target, keep, say


class Site:
    def __init__(self, job, pool):
        self.job, self.pool = job, pool
        self.tasks = set()


async def handle(reader, writer, site):
    """Serves one connection: reads each head (the wait for its first byte
    bounded by the idle timeout, the head itself by the header timeout and
    max_head), answers it, until the client closes or asks to."""
    task = asyncio.current_task()
    site.tasks.add(task)
    job, loop = site.job, asyncio.get_running_loop()
    buf = bytearray()
    try:
        while True:
            async with asyncio.timeout(None) as tm:
                tm.reschedule(loop.time() + (job.header_timeout if buf else job.idle_timeout))
                scan = 0
                while True:
                    end = buf.find(b"\r\n\r\n", scan)
                    if end >= 0:
                        break
                    if len(buf) > job.max_head:
                        writer.write(se.response(431, b"request head too large\n", close=True))
                        return
                    scan = max(0, len(buf) - 3)
                    data = await reader.read(1 << 16)
                    if not data:
                        return
                    if not buf:  # a request's first byte: its head has header_timeout
                        tm.reschedule(loop.time() + job.header_timeout)
                    buf += data
            if end + 4 > job.max_head:
                writer.write(se.response(431, b"request head too large\n", close=True))
                return
            try:
                target, keep, say = parse_head(bytes(buf[:end]))
            except BadRequest as e:
                writer.write(se.response(e.status, str(e).encode() + b"\n", close=True))
                return
            del buf[:end + 4]
            pid = se.page_id(target, job.pages)
            if pid < 0:
                status, body = 404, se.NOT_FOUND_BODY
            else:
                try:
                    status, body = 200, await site.pool.page(pid)
                except se.LookupError502:
                    status, body = 502, se.BAD_GATEWAY_BODY
            writer.write(se.response(status, body, close=not keep, keep_alive_header=say))
            if not keep:
                return
            if writer.transport.get_write_buffer_size() > 1 << 16:
                async with asyncio.timeout(job.idle_timeout):
                    await writer.drain()
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        pass  # slowloris, idle, or a client gone: close
    finally:
        site.tasks.discard(task)
        writer.close()  # after what was written is sent


async def serve(job):
    loop = asyncio.get_running_loop()
    pool = AsyncPool(job, job.param("conns", 256))
    await pool.prime()
    site = Site(job, pool)
    stop = loop.create_future()

    def on_stdin():
        if se.stdin_closed() and not stop.done():
            stop.set_result(None)

    os.set_blocking(0, False)
    loop.add_reader(0, on_stdin)
    server = await asyncio.start_server(lambda r, w: handle(r, w, site), sock=job.listener(blocking=False))
    se.ready()
    await stop
    loop.remove_reader(0)
    server.close()
    for t in list(site.tasks):
        t.cancel()
    await asyncio.gather(*site.tasks, return_exceptions=True)
    await server.wait_closed()
    pool.close()


def run(job):
    if not hasattr(asyncio, "timeout"):
        raise RuntimeError("the asyncio server needs Python 3.11 or later (asyncio.timeout), not %s"
                           % sys.version.split()[0])
    asyncio.run(serve(job))


if __name__ == "__main__":
    se.main(run)
