"""py-tornado, serve mode: a tornado.web Application on Tornado's
HTTPServer (one IOLoop), a coroutine RequestHandler doing the two lookups
on Tornado IOStreams from a pool of conns backend connections (params:
conns), borrowed through a tornado.queues.LifoQueue.

Tornado's header_timeout runs from the moment a connection waits for a
request, so HTTPServer sets it to its idle_connection_timeout: no bound of
its own on a head that trickles in. HeadWatch adds one: header_timeout
from a head's first byte, then the stream is closed."""

import datetime
import os

from tornado import gen
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.queues import LifoQueue
from tornado.tcpclient import TCPClient
from tornado.util import TimeoutError as TornadoTimeout
from tornado.web import Application, ErrorHandler, RequestHandler

import serve_ext as se
from concbench_ext import bulk_length, check_auth_reply, get_request

# ---------------------------------------------------------------- backend


class IOStreamBackendConn:
    """One backend connection on a Tornado IOStream."""

    def __init__(self, stream):
        self.stream = stream

    @classmethod
    async def dial(cls, client, addr, timeout, auth=b""):
        """Connects and, when auth is not empty, sends it and checks +OK."""
        stream = await client.connect(addr[0], addr[1], timeout=timeout)
        stream.set_nodelay(True)
        conn = cls(stream)
        if auth:
            try:
                await gen.with_timeout(datetime.timedelta(seconds=timeout), conn._auth(auth),
                                       quiet_exceptions=(StreamClosedError,))
            except BaseException:
                conn.close()
                raise
        return conn

    async def _auth(self, request):
        self.stream.write(request)
        check_auth_reply(bytes(await self.stream.read_until(b"\r\n", max_bytes=1 << 16)))

    async def _get(self, key):
        self.stream.write(get_request(key))
        n = bulk_length(bytes(await self.stream.read_until(b"\r\n", max_bytes=1 << 16)))
        if n < 0:
            return None
        data = await self.stream.read_bytes(n + 2)
        return bytes(data[:n])

    async def get(self, key, timeout):
        return await gen.with_timeout(datetime.timedelta(seconds=timeout), self._get(key),
                                      quiet_exceptions=(StreamClosedError,))

    def close(self):
        self.stream.close()


class TornadoPool(se.EventLoopPool):
    """The Go servers' bounded pool on Tornado (se.EventLoopPool): size
    slots in a LifoQueue, each a connection or None (dialled on use), a
    wait for a slot bounded by the fetch timeout; a connection whose lookup
    broke or timed out is closed and its slot emptied."""

    take_timeout = TornadoTimeout

    def __init__(self, job, size):
        self.job = job
        self.client = TCPClient()
        self.slots = LifoQueue()
        self.fill(size)

    async def take(self, timeout):
        return await self.slots.get(timeout=datetime.timedelta(seconds=timeout))

    def give_back(self, conn):
        self.slots.put_nowait(conn)

    async def dial(self):
        return await IOStreamBackendConn.dial(self.client, self.job.backend, self.job.fetch_timeout, self.job.auth)

    async def get(self, conn, key):
        return await conn.get(key, self.job.fetch_timeout)

    def discard(self, conn):
        conn.close()

    def close(self):
        while self.slots.qsize():
            conn = self.slots.get_nowait()
            if conn is not None:
                conn.close()
        self.client.close()


# ---------------------------------------------------------------- web


class PageHandler(RequestHandler):
    def initialize(self, job, pool):
        self.job, self.pool = job, pool

    def compute_etag(self):
        return None  # no ETag: the other servers hash nothing but the page

    async def get(self, _):
        self.set_header("Content-Type", se.CONTENT_TYPE)
        # The raw target, not Tornado's unquoted path argument: "/page/%31"
        # is not canonical.
        pid = se.page_id(self.request.uri.encode("latin-1"), self.job.pages)
        if pid < 0:
            self.set_status(404)
            self.finish(se.NOT_FOUND_BODY)
            return
        try:
            body = await self.pool.page(pid)
        except se.LookupError502:
            self.set_status(502)
            self.finish(se.BAD_GATEWAY_BODY)
            return
        self.finish(body)


class HeadWatch:
    """Closes a connection whose request head is not complete
    header_timeout after its first byte. It wraps two methods of the
    connection's IOStream: read_until_regex, through which Tornado's
    HTTP1Connection reads each head, and read_from_fd, through which every
    byte arrives; the timer starts with the first byte read while a head is
    awaited (or at once when bytes are already buffered: _read_buffer_size
    is IOStream's count of them) and stops when the head is complete."""

    def __init__(self, stream, timeout):
        self.stream, self.timeout = stream, timeout
        self.awaiting = False
        self.timer = None
        self.read_from_fd = stream.read_from_fd
        self.read_until_regex = stream.read_until_regex
        stream.read_from_fd = self.on_read
        stream.read_until_regex = self.on_head

    def on_read(self, buf):
        n = self.read_from_fd(buf)
        if n and self.awaiting and self.timer is None:
            self.arm()
        return n

    def on_head(self, regex, max_bytes=None):
        fut = self.read_until_regex(regex, max_bytes=max_bytes)
        if not fut.done():
            self.awaiting = True
            if self.stream._read_buffer_size:
                self.arm()
            fut.add_done_callback(self.head_done)
        return fut

    def arm(self):
        self.timer = IOLoop.current().call_later(self.timeout, self.expire)

    def head_done(self, _):
        self.awaiting = False
        if self.timer is not None:
            IOLoop.current().remove_timeout(self.timer)
            self.timer = None

    def expire(self):
        self.timer = None
        self.stream.close()


class PageServer(HTTPServer):
    def initialize(self, *args, header_timeout=None, **kwargs):
        super().initialize(*args, **kwargs)
        self.header_timeout = header_timeout

    def handle_stream(self, stream, address):
        HeadWatch(stream, self.header_timeout)
        super().handle_stream(stream, address)


async def serve(job):
    pool = TornadoPool(job, job.param("conns", 256))
    await pool.prime()
    app = Application([(r"/page/([^/]*)", PageHandler, dict(job=job, pool=pool))],
                      default_handler_class=ErrorHandler, default_handler_args=dict(status_code=404),
                      log_function=lambda handler: None, compress_response=False)
    server = PageServer(app, max_header_size=job.max_head, idle_connection_timeout=job.idle_timeout,
                        header_timeout=job.header_timeout)
    server.add_socket(job.listener(blocking=False))
    stopped = IOLoop.current().asyncio_loop.create_future()

    def on_stdin(fd, events):
        if se.stdin_closed() and not stopped.done():
            stopped.set_result(None)

    os.set_blocking(0, False)
    IOLoop.current().add_handler(0, on_stdin, IOLoop.READ)
    se.ready()
    await stopped
    IOLoop.current().remove_handler(0)
    server.stop()
    await server.close_all_connections()
    pool.close()


def run(job):
    IOLoop.current().run_sync(lambda: serve(job))


if __name__ == "__main__":
    se.main(run)
