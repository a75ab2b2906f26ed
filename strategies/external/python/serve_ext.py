"""Shared code of concbench's Python servers (serve mode).

Each serve_*.py is one of the seed articles' server models, run by concbench
as a child process that follows serve/PROTOCOL.md: it reads one job line on
stdin, serves GET /page/{id} on the listening socket it inherits (fd 3),
prints {"ready":true}, and serves until its stdin closes; then it stops
accepting, closes its connections and exits 0. This module holds what they
share:

- the job line (ServeJob) and the conversation (main, ready, stdin_closed);
- the page itself (page_id, user_key, page_body) on top of concbench_ext's
  hashes and render kernel, so the body is the Go reference's byte for byte;
- a bounded pool of blocking backend connections (SyncPool) for the
  threaded servers and gevent, whose socket module it takes, and the
  event-loop servers' pool on any framework (EventLoopPool);
- a request reader for http.server-style handlers (RequestReader) that
  bounds a request head in bytes and in time, and the http.server handler
  and servers built on it (PageHandler, BlockingPageServer,
  ThreadingPageServer, RequestPoolServer).

The rules every server follows (serve/doc.go): a page answers 200 with a
Content-Length; another path, or an id out of range or not canonical, 404;
a failed lookup 502, keeping the client's connection; a request that cannot
be parsed 4xx and close, or a plain close; a head longer than max_head
bytes is refused; a head not complete header_timeout after its first byte
drops the connection (slowloris); a keep-alive connection may idle for
idle_timeout.
"""

import http.server
import io
import json
import os
import queue
import selectors
import socket
import sys
import threading
import time
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor

# The servers use no float32 kernel: concbench_ext's switch to its
# pure-Python float32 path spares them numpy's import at every start.
os.environ.setdefault("CONCBENCH_FLOAT32", "struct")

from concbench_ext import (  # noqa: E402
    FNV_OFFSET, RENDER_BODY, auth_request, bulk_length, check_auth_reply, dependent_key, fnv1a, get_request, mix, render)

PROTOCOL = 1

CONTENT_TYPE = "text/html; charset=utf-8"
NOT_FOUND_BODY = b"no such page\n"
BAD_GATEWAY_BODY = b"backend lookup failed\n"

# ---------------------------------------------------------------- the job


class ServeJob:
    """The job line concbench writes on stdin (serve/PROTOCOL.md)."""

    def __init__(self, doc):
        if doc.get("protocol") != PROTOCOL or doc.get("mode") != "serve":
            raise ValueError("job of protocol %r mode %r; this server speaks protocol %d mode serve"
                             % (doc.get("protocol"), doc.get("mode"), PROTOCOL))
        self.server = doc.get("server", "")
        self.params = dict(doc.get("params") or {})
        self.listen_fd = int(doc.get("listen_fd") or 0)
        self.listen = doc.get("listen") or ""
        if (self.listen_fd > 0) == bool(self.listen):
            raise ValueError("job needs exactly one of listen_fd and listen")
        backends = doc.get("backends") or []
        if not backends:
            raise ValueError("job has no backend")
        self.backend = split_addr(backends[0])
        # The AUTH every backend connection sends first (b"": none).
        self.auth = auth_request(doc.get("auth"))
        self.pages = int(doc["pages"])
        self.value_size = int(doc["value_size"])
        self.fetch_timeout = doc.get("fetch_timeout_ns", 5_000_000_000) / 1e9
        self.header_timeout = doc.get("header_timeout_ns", 5_000_000_000) / 1e9
        self.idle_timeout = doc.get("idle_timeout_ns", 60_000_000_000) / 1e9
        self.max_head = int(doc.get("max_head") or 24576)

    def param(self, name, default):
        """The integer parameter name, or default when absent or 0."""
        return int(self.params.get(name) or default)

    def listener(self, blocking):
        """The listening socket: the inherited one, or one bound to listen."""
        if self.listen_fd > 0:
            sock = socket.socket(fileno=self.listen_fd)
        else:
            host, port = split_addr(self.listen)
            sock = socket.create_server((host, port), backlog=1024)
        # The inherited socket shares its O_NONBLOCK flag with the parent's
        # copy: set the mode this server needs, whatever it was.
        sock.setblocking(blocking)
        return sock


def split_addr(addr):
    host, port = addr.rsplit(":", 1)
    return host.strip("[]"), int(port)


def read_job():
    """Reads the job line from fd 0 without buffering past it, so that the
    only thing left on stdin is its end of file."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            raise SystemExit("concbench serve: no job on stdin")
        data += chunk
        if len(data) > 1 << 20:
            raise SystemExit("concbench serve: job line over 1 MiB")
    return ServeJob(json.loads(data))


def _write_line(obj):
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    while data:
        data = data[os.write(1, data):]


def ready():
    """Tells concbench the server accepts and its backend is reachable."""
    _write_line({"ready": True})


def main(run):
    """Runs a server: run(job) sets up, calls ready() and serves until its
    stdin closes. An exception before that is reported as a fatal line (and a
    traceback on stderr) and exits 1."""
    try:
        run(read_job())
    except SystemExit:
        raise
    except BaseException as e:
        traceback.print_exc()
        try:
            _write_line({"fatal": "%s: %s" % (type(e).__name__, e)})
        except OSError:
            pass
        sys.exit(1)
    sys.exit(0)


def stdin_closed():
    """Reads fd 0 (readable) and reports whether it is at its end. Event
    loops call it from a reader callback."""
    try:
        return not os.read(0, 4096)
    except BlockingIOError:
        return False
    except OSError:
        return True


def watch_stdin(on_close):
    """Calls on_close() from a daemon thread once stdin closes: for servers
    whose main thread is busy serving."""

    def watch():
        while True:
            try:
                if not os.read(0, 4096):
                    break
            except OSError:
                break
        on_close()

    threading.Thread(target=watch, name="stdin", daemon=True).start()


# ---------------------------------------------------------------- the page

PAGE_PREFIX = b"/page/"


def page_id(target, pages):
    """The page id of a request-target (bytes): "/page/{id}" with id
    canonical decimal below pages, a query ignored; -1 for any other
    target (404)."""
    q = target.find(b"?")
    if q >= 0:
        target = target[:q]
    if not target.startswith(PAGE_PREFIX):
        return -1
    digits = target[len(PAGE_PREFIX):]
    if not digits or len(digits) > 10 or not digits.isdigit() or (digits[0] == 0x30 and len(digits) > 1):
        return -1
    n = int(digits)
    return n if n < pages else -1


def session_key(pid):
    return "session:%d" % pid


class LookupError502(Exception):
    """A backend lookup failed: the page is answered 502."""


def check_reply(reply, key, value_size):
    """Returns reply if it is a value of value_size bytes, else raises."""
    if reply is None:
        raise LookupError502("GET %s: nil" % key)
    if len(reply) != value_size:
        raise LookupError502("GET %s: reply of %d bytes, want %d" % (key, len(reply), value_size))
    return reply


def user_key(session_reply):
    """The second lookup's key and the session hash it is named by."""
    s = fnv1a(FNV_OFFSET, session_reply)
    return dependent_key(s), s


def page_body(pid, session_hash, user_reply):
    """Page pid's body (serve/doc.go): its first line, then RENDER_BODY."""
    u = fnv1a(FNV_OFFSET, user_reply)
    sum_ = mix(mix(0, session_hash), u)
    r = render(pid, sum_, u)
    return b"<!-- page %d session %x user %x render %x digest %x -->\n" % (
        pid, session_hash, u, r, mix(sum_, r)) + RENDER_BODY


REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed",
           408: b"Request Timeout", 431: b"Request Header Fields Too Large", 502: b"Bad Gateway",
           505: b"HTTP Version Not Supported"}


def response(status, body, close=False, keep_alive_header=False):
    """A whole response, for servers that write their own (the asyncio one)."""
    conn = b"Connection: close\r\n" if close else (b"Connection: keep-alive\r\n" if keep_alive_header else b"")
    return b"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n" % (
        status, REASONS.get(status, b"Error"), len(body), conn) + body


# ---------------------------------------------------------------- blocking backend


class SyncBackendConn:
    """One blocking connection to the backend, on the socket module given
    (socket, or gevent.socket for gevent). Timeouts bound each socket
    operation by the fetch timeout."""

    def __init__(self, addr, timeout, sockmod=socket, auth=b""):
        self.sock = sockmod.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")
        if auth:
            try:
                self.sock.sendall(auth)
                check_auth_reply(self.rfile.readline(1 << 16))
            except BaseException:
                self.close()
                raise

    def get(self, key):
        """The reply to GET key (None for nil). A RespError (an error reply)
        leaves the connection usable; any other exception does not."""
        self.sock.sendall(get_request(key))
        n = bulk_length(self.rfile.readline(1 << 16))
        if n < 0:
            return None
        data = self.rfile.read(n + 2)
        if len(data) != n + 2:
            raise EOFError("connection closed mid-reply")
        return data[:n]

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


class SyncPool:
    """A bounded pool of blocking backend connections, as the Go servers'
    pool: a request takes a connection (dialling one while under the bound,
    waiting up to the fetch timeout for a free one otherwise) and gives it
    back after its two lookups; one that failed is closed and redialled on
    a later use. queue_mod provides a LifoQueue (queue, or gevent.queue)."""

    def __init__(self, job, size, sockmod=socket, queue_mod=queue):
        self.job = job
        self.sockmod = sockmod
        self.slots = queue_mod.LifoQueue()
        self.empty = queue_mod.Empty
        for _ in range(max(1, size)):
            self.slots.put(None)  # not dialled yet

    def prime(self):
        """Dials one connection: the backend is reachable (before ready)."""
        self.slots.get()
        self.slots.put(self._dial())

    def _dial(self):
        return SyncBackendConn(self.job.backend, self.job.fetch_timeout, self.sockmod, self.job.auth)

    def page(self, pid):
        """Page pid's body, or LookupError502."""
        try:
            conn = self.slots.get(timeout=self.job.fetch_timeout)
        except self.empty:
            raise LookupError502("no backend connection free within %gs" % self.job.fetch_timeout)
        try:
            if conn is None:
                conn = self._dial()
            key = session_key(pid)
            session = check_reply(conn.get(key), key, self.job.value_size)
            key, s = user_key(session)
            user = check_reply(conn.get(key), key, self.job.value_size)
        except LookupError502:
            raise  # a nil or a wrong size: the connection is in step
        except Exception as e:  # RespError keeps it too, but is rare: redial
            if conn is not None:
                conn.close()
                conn = None
            raise LookupError502("%s: %s" % (type(e).__name__, e))
        finally:
            self.slots.put(conn)
        return page_body(pid, s, user)

    def close(self):
        while True:
            try:
                conn = self.slots.get_nowait()
            except self.empty:
                return
            if conn is not None:
                conn.close()


# ---------------------------------------------------------------- event-loop backend


class EventLoopPool:
    """The bounded pool of the event-loop servers (asyncio and uvloop,
    Tornado, Twisted), whatever the framework, as the Go servers' pool:
    size slots, each a connection or None (dialled on use); a request
    waits up to the fetch timeout for a slot and gives it back after the
    page's two lookups, emptied where a lookup broke. A subclass sets job
    and its slots, calls fill(size), and provides, on its framework:

    - take(timeout): a slot (awaited), raising take_timeout after timeout
      seconds;
    - give_back(conn): returns a slot, without waiting;
    - dial(): a new connection (awaited, bounded by the fetch timeout);
    - get(conn, key): the reply to GET key, None for nil (awaited, bounded
      by the fetch timeout);
    - discard(conn): closes a connection whose lookup broke.
    """

    take_timeout = TimeoutError  # what take raises when no slot came in time

    def fill(self, size):
        for _ in range(max(1, size)):
            self.give_back(None)  # not dialled yet

    async def prime(self):
        """Dials one connection: the backend is reachable (before ready)."""
        await self.take(self.job.fetch_timeout)  # free: the pool is full
        self.give_back(await self.dial())

    async def page(self, pid):
        """Page pid's body, or LookupError502."""
        t = self.job.fetch_timeout
        try:
            conn = await self.take(t)
        except self.take_timeout:
            raise LookupError502("no backend connection free within %gs" % t)
        return await self.lookups(pid, conn)

    async def lookups(self, pid, conn):
        """Page pid's body from its two lookups on conn, or LookupError502.
        The slot always goes back: the connection where it is in step (a
        reply came, even one that fails the page), else discarded and None
        (an error, a timeout, or a cancel in the middle of a GET)."""
        value_size = self.job.value_size
        broken = True
        try:
            if conn is None:
                conn = await self.dial()
            key = session_key(pid)
            reply = await self.get(conn, key)
            broken = False  # in step, whatever the reply
            session = check_reply(reply, key, value_size)
            key, s = user_key(session)
            broken = True
            reply = await self.get(conn, key)
            broken = False
            user = check_reply(reply, key, value_size)
        except LookupError502:
            raise
        except Exception as e:
            raise LookupError502("%s: %s" % (type(e).__name__, e))
        finally:
            if broken and conn is not None:
                self.discard(conn)
                conn = None
            self.give_back(conn)
        return page_body(pid, s, user)


# ---------------------------------------------------------------- request heads


class HeadTooLarge(ValueError):
    """A request head is longer than max_head: 431 and close."""


class _DeadlineRaw(io.RawIOBase):
    """A socket's reads with a deadline: each recv waits only until it, so a
    head trickled a byte at a time still ends at the deadline. nonblocking
    makes a read return at once (None) when no byte is waiting."""

    def __init__(self, sock):
        super().__init__()
        self.sock = sock
        self.deadline = None
        self.nonblocking = False

    def readable(self):
        return True

    def readinto(self, b):
        if self.nonblocking:
            self.sock.settimeout(0)
            try:
                return self.sock.recv_into(b)
            except BlockingIOError:
                return None
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request head not complete in time")
            self.sock.settimeout(left)
        return self.sock.recv_into(b)


class RequestReader:
    """A connection's request stream for http.server-style handlers (they
    call readline and read): buffered, with the head of each request bounded
    in bytes (HeadTooLarge) and in time (TimeoutError) from its first byte,
    and the wait for a request bounded by the idle timeout."""

    def __init__(self, sock, job):
        self.job = job
        self.raw = _DeadlineRaw(sock)
        self.buf = io.BufferedReader(self.raw, 1 << 16)
        self.budget = None  # bytes the head being read may still take

    def wait_request(self):
        """Waits up to the idle timeout for a request's first byte; False at
        the end of the stream. Raises TimeoutError when idle too long."""
        self.raw.deadline = time.monotonic() + self.job.idle_timeout
        return bool(self.buf.peek(1))

    def begin_head(self):
        """A request's first byte is here: its head has max_head bytes and
        header_timeout seconds."""
        self.raw.deadline = time.monotonic() + self.job.header_timeout
        self.budget = self.job.max_head

    def end_head(self):
        """The head is read: the handler's writes may take the idle timeout."""
        self.raw.deadline = None
        self.budget = None
        self.raw.sock.settimeout(self.job.idle_timeout)

    def has_buffered(self):
        """Whether a byte of the next request is already here (pipelined, or
        arrived while the last one was served), without waiting."""
        self.raw.nonblocking = True
        try:
            return bool(self.buf.peek(1))
        except OSError:
            return True  # let the handler meet the error
        finally:
            self.raw.nonblocking = False
            self.raw.sock.settimeout(self.job.idle_timeout)

    def readline(self, limit=-1):
        if self.budget is None:
            return self.buf.readline(limit)
        cap = self.budget + 1 if limit < 0 else min(limit, self.budget + 1)
        line = self.buf.readline(cap)
        self.budget -= len(line)
        if self.budget < 0:
            raise HeadTooLarge("request head over %d bytes" % self.job.max_head)
        return line

    def read(self, n=-1):
        return self.buf.read(n)

    def peek(self, n=0):
        return self.buf.peek(n)

    @property
    def closed(self):
        return self.buf.closed

    def close(self):
        self.buf.close()


class _SocketWriter:
    """wfile: every write is one sendall."""

    closed = False

    def __init__(self, sock):
        self.sock = sock

    def write(self, b):
        self.sock.sendall(b)
        return len(b)

    def flush(self):
        pass

    def close(self):
        self.closed = True


# ---------------------------------------------------------------- http.server


class PageHandler(http.server.BaseHTTPRequestHandler):
    """http.server's request handler serving the page endpoint over HTTP/1.1
    keep-alive. The server it runs under has .job and .backend (a SyncPool).
    Each request is read by http.server's own parse_request (request line,
    headers through http.client.parse_headers) from a RequestReader, which
    adds the head's size and time bounds that http.server lacks."""

    protocol_version = "HTTP/1.1"
    # http.server's default, HTTP/0.9, answers a request line it cannot
    # read with a bare body (0.9 has no status line); refusals must carry
    # a status. HTTP/0.9 requests themselves are refused (parse_request).
    default_request_version = "HTTP/1.0"
    # set by servers that select readiness themselves: the request's first
    # byte is known to be here
    waits_for_request = True

    def setup(self):
        self.connection = self.request
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = RequestReader(self.request, self.server.job)
        self.wfile = _SocketWriter(self.request)

    def finish(self):
        self.rfile.close()

    def handle_one_request(self):
        r = self.rfile
        try:
            if self.waits_for_request and not r.wait_request():
                self.close_connection = True
                return
            r.begin_head()
            # what send_error reads, should the request line be refused
            self.command, self.request_version, self.requestline = None, self.default_request_version, ""
            super().handle_one_request()  # catches a TimeoutError itself
        except HeadTooLarge:
            self.send_error(431)
            self.close_connection = True
        except OSError:
            self.close_connection = True

    def parse_request(self):
        if not super().parse_request():
            return False
        self.rfile.end_head()
        if len(self.requestline.split()) != 3:
            self.send_error(400, "HTTP/0.9 is not served")
            return False
        if self.command != "GET":
            self.send_error(405)
            return False
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length", "0") != "0":
            self.send_error(400, "a GET with a body")
            return False
        return True

    def do_GET(self):
        pid = page_id(self.path.encode("latin-1"), self.server.job.pages)
        if pid < 0:
            return self.respond(404, NOT_FOUND_BODY)
        try:
            body = self.server.backend.page(pid)
        except LookupError502:
            return self.respond(502, BAD_GATEWAY_BODY)
        self.respond(200, body)

    def respond(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")
        # Head and body in one write: two would meet Nagle's algorithm and
        # the client's delayed ACK (40 ms) on every response.
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def log_request(self, code="-", size="-"):
        pass  # no line per request; failures show as statuses

    def log_message(self, format, *args):
        pass


class _ServerMixin:
    """What PageHandler's servers on socketserver's loop share: the job, the
    backend pool, the inherited socket, the connections open (so that stop
    can end them), quiet error handling."""

    def adopt(self, job, sock, backend):
        self.socket.close()  # the one TCPServer made; the inherited one replaces it
        self.job = job
        self.backend = backend
        self.socket = sock
        self.server_address = sock.getsockname()
        self.open = set()
        self.lock = threading.Lock()
        self.stopping = False

    def process_request(self, request, client_address):
        with self.lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def stop(self):
        """Ends serve_forever (from another thread) and the connections
        being served: each is shut, so its handler's read ends, until the
        loop has returned."""
        self.stopping = True
        done = threading.Thread(target=self.shutdown, name="shutdown", daemon=True)
        done.start()
        while done.is_alive():
            with self.lock:
                socks = list(self.open)
            for sock in socks:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            done.join(0.05)

    def handle_error(self, request, client_address):
        # A client that vanished is not news; anything else is a bug worth a
        # line (never a line per request in the steady state).
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            print("serve: error on a connection: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)


class BlockingPageServer(_ServerMixin, http.server.HTTPServer):
    """http.server.HTTPServer as it is: one connection at a time, served
    until it is over (the client closes it or asks to, idles past the idle
    timeout, or is refused), every request's lookups blocking the server.
    With HTTP/1.1 keep-alive a client holds it for as long as it stays:
    the others wait, unanswered, in the accept backlog."""

    def __init__(self, job, sock, backend):
        super().__init__(sock.getsockname(), PageHandler, bind_and_activate=False)
        self.adopt(job, sock, backend)


class ThreadingPageServer(_ServerMixin, http.server.ThreadingHTTPServer):
    """http.server.ThreadingHTTPServer: a thread per connection, each
    serving its connection's keep-alive requests in turn, at most
    max_threads at once: past that a connection accepted waits for a
    thread to end, unanswered (ThreadingHTTPServer itself has no bound).
    server_close joins the threads."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, job, sock, backend, max_threads):
        super().__init__(sock.getsockname(), PageHandler, bind_and_activate=False)
        self.adopt(job, sock, backend)
        self.slots = threading.BoundedSemaphore(max_threads)

    def process_request(self, request, client_address):
        while not self.slots.acquire(timeout=0.1):
            if self.stopping:
                self.shutdown_request(request)
                return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Conn:
    """A keep-alive connection of a RequestPoolServer and its handler."""

    __slots__ = ("sock", "handler", "idle_since", "parked")

    def __init__(self, sock, handler):
        self.sock, self.handler, self.idle_since = sock, handler, time.monotonic()
        self.parked = False  # in the selector, waiting for a request


class RequestPoolServer(http.server.HTTPServer):
    """http.server's handler on a pool of worker threads that take
    requests, not connections. One selector thread holds the idle
    keep-alive connections; when one has a request it is handed to a
    concurrent.futures.ThreadPoolExecutor of workers threads, whose worker
    has http.server's handler read, parse and answer that one request
    (handle_one_request: the head's read, bounded by header_timeout, and
    the lookups block the worker), then hands the connection back to the
    selector. A worker that took a connection
    instead would sit idle between its client's requests, and workers
    clients would shut out every other. At most workers requests are in
    progress; the others wait, ready, in the executor's queue, and that
    wait is in their latency."""

    def __init__(self, job, sock, backend, workers):
        super().__init__(sock.getsockname(), _PooledHandler, bind_and_activate=False)
        self.socket.close()  # the one TCPServer made; the inherited one replaces it
        self.job, self.backend, self.socket = job, backend, sock
        self.server_address = sock.getsockname()
        self.workers = workers
        self.sel = selectors.DefaultSelector()
        self.conns = set()

    def serve(self):
        """Serves until stdin closes."""
        sel = self.sel
        self.socket.setblocking(False)
        sel.register(self.socket, selectors.EVENT_READ, "accept")
        os.set_blocking(0, False)
        sel.register(0, selectors.EVENT_READ, "stdin")
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="serve")
        back = _Returns(sel)
        ready = deque()  # connections with a request to hand to the pool
        sweep = time.monotonic() + self.job.idle_timeout / 4
        try:
            while True:
                for key, _ in sel.select(1.0):
                    what = key.data
                    if what == "accept":
                        self._accept()
                    elif what == "stdin":
                        if stdin_closed():
                            return
                    elif what == "returns":
                        for c in back.take():
                            self._park(c, ready)
                    else:
                        sel.unregister(what.sock)
                        what.parked = False
                        ready.append(what)
                while ready:
                    pool.submit(self._serve_one_then, ready.popleft(), back)
                now = time.monotonic()
                if now >= sweep:
                    sweep = now + self.job.idle_timeout / 4
                    self._close_idle(now)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for c in list(self.conns):
                self._drop(c)
            sel.close()

    def _accept(self):
        # Every connection waiting, up to a bound: a load generator opens
        # its connections in a burst.
        for _ in range(64):
            try:
                sock, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # EMFILE and kin: keep serving the others
                print("serve: accept: %s" % e, file=sys.stderr)
                return
            sock.setblocking(True)
            c = _Conn(sock, _PooledHandler(sock, addr, self))
            self.conns.add(c)
            self.sel.register(sock, selectors.EVENT_READ, c)
            c.parked = True

    def _serve_one_then(self, c, back):
        """On a worker: answers c's request, then hands c back."""
        try:
            c.handler.handle_one_request()
        except Exception as e:
            if not isinstance(e, OSError):
                print("serve: error on a connection: %s: %s" % (type(e).__name__, e), file=sys.stderr)
            c.handler.close_connection = True
        back.put(c)

    def _park(self, c, ready):
        """After a request: close, or queue the next request, or select."""
        if c.handler.close_connection:
            self._drop(c)
        elif c.handler.rfile.has_buffered():
            ready.append(c)
        else:
            c.idle_since = time.monotonic()
            self.sel.register(c.sock, selectors.EVENT_READ, c)
            c.parked = True

    def _close_idle(self, now):
        for c in list(self.conns):
            if c.parked and now - c.idle_since > self.job.idle_timeout:
                self._drop(c)

    def _drop(self, c):
        self.conns.discard(c)
        if c.parked:
            self.sel.unregister(c.sock)
            c.parked = False
        c.handler.finish()
        self.shutdown_request(c.sock)


class _PooledHandler(PageHandler):
    """PageHandler whose requests RequestPoolServer hands out one at a time:
    built without handling anything, and told each request's first byte is
    here."""

    waits_for_request = False

    def __init__(self, request, client_address, server):
        self.request, self.client_address, self.server = request, client_address, server
        self.close_connection = False
        self.setup()


class _Returns:
    """Connections the pool's workers hand back to the selector thread,
    with a pipe that wakes its select."""

    def __init__(self, sel):
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        self.q = queue.SimpleQueue()
        sel.register(self.r, selectors.EVENT_READ, "returns")

    def put(self, c):
        self.q.put(c)
        os.write(self.w, b"x")

    def take(self):
        try:
            os.read(self.r, 4096)
        except BlockingIOError:
            pass
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out
