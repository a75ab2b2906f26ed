"""Shared code of concbench's Python strategies.

The process protocol (PROTOCOL.md next to this directory), the RESP client
for blocking sockets, and the reference kernels and digests, replicated bit
for bit from the Go package workloads: uint64 arithmetic is masked to 64 bits,
float32 arithmetic is rounded to float32 after every operation.

A strategy module does:

    proto = Protocol.start()         # reads the job from stdin
    ...set up: dial connections...
    proto.ready()                    # prints ready, waits for "go"
    for ids in proto.job.passes():   # the task set, repeat times over
        ...run the tasks of ids; proto.report(i, start_ns, res) for each...
    proto.done()

A pass is a closed batch: start the tasks of a pass only once every task of
the pass before has been reported. Task ids count across passes (pass p's
are p*N .. p*N+N-1, N = len(job.tasks)); Cursor(job, i) runs task i mod N.
"""

import array
import base64
import json
import os
import socket
import struct
import sys
import time

MASK = (1 << 64) - 1
FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211

# ---------------------------------------------------------------- digests


def fnv1a(seed, data):
    """workloads.FNV1aScalar: 64-bit FNV-1a of data, starting from seed."""
    h = seed
    p = FNV_PRIME
    m = MASK
    for c in data:
        h = ((h ^ c) * p) & m
    return h


def mix(h, v):
    """workloads.mix: folds v into h."""
    h = ((h ^ v) * FNV_PRIME) & MASK
    return h ^ (h >> 29)


def dependent_key(prev_reply_hash):
    """workloads.DependentKey."""
    return "user:%x" % prev_reply_hash


def _render_body():
    b = bytearray(b"<!doctype html><html><head><title>profile</title></head><body><table>")
    i = 0
    while len(b) < 1000:
        b += b"<tr><td>field %d</td><td>value</td></tr>" % i
        i += 1
    return bytes(b + b"</table></body></html>")


RENDER_BODY = _render_body()
# The body's hash is not precomputed: the render kernel hashes it on every
# call, as the Go reference does.


def render(task, sum_, last_reply):
    """workloads.Render: builds the page head and hashes head then body."""
    head = b"HTTP/1.1 200 OK\r\nX-Request: %d\r\nETag: %x%x\r\n\r\n" % (task, sum_, last_reply)
    return fnv1a(fnv1a(FNV_OFFSET, head), RENDER_BODY)


# ---------------------------------------------------------------- float32

try:
    # CONCBENCH_FLOAT32=struct forces the pure-Python path (the tests check
    # that both paths give the reference's bits).
    if os.environ.get("CONCBENCH_FLOAT32") == "struct":
        raise ImportError("numpy declined by CONCBENCH_FLOAT32=struct")
    import numpy

    _f32 = numpy.float32
    FLOAT32 = "numpy.float32"

    def mandelbrot_row(g, y):
        """workloads.MandelbrotRowScalar with numpy float32 scalars: each
        operation is computed and rounded in float32, never fused."""
        f = _f32
        dx, dy, x0, y0 = f(g["dx"]), f(g["dy"]), f(g["x0"]), f(g["y0"])
        four = f(4)
        max_iter = g["max_iter"]
        ci = f(y) * dy + y0
        total = 0
        for x in range(g["width"]):
            cr = f(x) * dx + x0
            zr = zi = f(0)
            i = 0
            while i < max_iter:
                zr2 = zr * zr
                zi2 = zi * zi
                if zr2 + zi2 > four:
                    break
                zi = (zr + zr) * zi + ci
                zr = (zr2 - zi2) + cr
                i += 1
            total += i * (x + 1)
        return total & MASK

except ImportError:
    FLOAT32 = "struct"
    _s = struct.Struct("<f")

    def mandelbrot_row(g, y):
        """workloads.MandelbrotRowScalar in float64 rounded to float32 after
        every operation: for + - * of float32 operands the float64 result
        rounded once more to float32 is the correctly rounded float32 result
        (53 >= 2*24+2), so the bits match a float32 machine."""
        pack, unpack = _s.pack, _s.unpack

        def r(v):
            return unpack(pack(v))[0]

        dx, dy, x0, y0 = g["dx"], g["dy"], g["x0"], g["y0"]
        max_iter = g["max_iter"]
        ci = r(r(y * dy) + y0)
        total = 0
        for x in range(g["width"]):
            cr = r(r(x * dx) + x0)
            zr = zi = 0.0
            i = 0
            while i < max_iter:
                zr2 = r(zr * zr)
                zi2 = r(zi * zi)
                if r(zr2 + zi2) > 4:
                    break
                zi = r(r((zr + zr) * zi) + ci)
                zr = r(r(zr2 - zi2) + cr)
                i += 1
            total += i * (x + 1)
        return total & MASK


_f32pack = struct.Struct("<f")


def to_float32(v):
    return _f32pack.unpack(_f32pack.pack(v))[0]


def dot(a, b, lo, hi):
    """workloads.DotScalar over a[lo:hi], b[lo:hi]. The workload's inputs make
    every partial sum exact in float32 (and so in float64): summing in
    float64 and rounding once gives the float32 accumulator's bits."""
    s = 0.0
    for x, y in zip(a[lo:hi], b[lo:hi]):
        s += x * y
    return to_float32(s)


# ---------------------------------------------------------------- job


class TaskError(Exception):
    """A task failed; the run goes on."""


FETCH, COMPUTE = 0, 1
KERNELS = {"noop": 0, "dot": 1, "mandelbrot": 2, "hash": 3, "render": 4, "burst": 5}


class Job:
    """The job concbench wrote on stdin, decoded once."""

    def __init__(self, doc):
        if doc.get("protocol") != 1:
            raise ValueError("protocol %r, this module speaks 1" % doc.get("protocol"))
        self.doc = doc
        self.params = {k: v for k, v in (doc.get("params") or {}).items()}
        self.backends = []
        for addr in doc.get("backends") or []:
            host, port = addr.rsplit(":", 1)
            self.backends.append((host.strip("[]"), int(port)))
        # The AUTH every backend connection sends first (b"": none).
        self.auth = auth_request(doc.get("auth"))
        self.value_size = doc.get("value_size", 0)
        self.fetch_timeout = doc.get("fetch_timeout_ns", 5_000_000_000) / 1e9
        inp = doc.get("input") or {}
        self.a = _floats(inp.get("a"))
        self.b = _floats(inp.get("b"))
        self.mandelbrot = inp.get("mandelbrot")
        self.messages = base64.b64decode(inp.get("messages") or "")
        self.message_size = inp.get("message_size", 0)
        self.burst_block = base64.b64decode(inp.get("burst_block") or "")
        # How many times the task set runs (PROTOCOL.md: absent means 1).
        self.repeat = int(doc.get("repeat") or 1)
        if self.repeat < 1:
            raise ValueError("repeat %r: want at least 1" % doc.get("repeat"))
        self.tasks = []
        for steps in doc["tasks"]:
            out = []
            for st in steps:
                if st["op"] == "fetch":
                    out.append((FETCH, st.get("backend", 0), st.get("key", ""), st.get("key_from_reply", False)))
                elif st["op"] == "compute":
                    out.append((COMPUTE, KERNELS[st["kernel"]], st.get("lo", 0), st.get("hi", 0)))
                else:
                    raise ValueError("unknown step op %r" % st["op"])
            self.tasks.append(out)

    def param(self, name, default):
        return int(self.params.get(name, default))

    def passes(self):
        """The task ids of each pass, in order: repeat ranges of len(tasks)."""
        n = len(self.tasks)
        for p in range(self.repeat):
            yield range(p * n, (p + 1) * n)

    def needs_backend(self):
        return bool(self.backends)


def _floats(b64):
    arr = array.array("f")
    if b64:
        arr.frombytes(base64.b64decode(b64))
        if sys.byteorder != "little":
            arr.byteswap()
    return arr


class Cursor:
    """workloads.Cursor: walks one task's steps and folds its result. Task
    id i (counted across passes) runs the job's task i mod len(tasks),
    whose index the kernels see."""

    __slots__ = ("job", "task", "steps", "step", "sum", "value", "last")

    def __init__(self, job, i):
        self.job = job
        self.task = i % len(job.tasks)
        self.steps = job.tasks[self.task]
        self.step = 0
        self.sum = 0
        self.value = 0.0
        self.last = 0

    def done(self):
        return self.step >= len(self.steps)

    def is_fetch(self):
        return self.steps[self.step][0] == FETCH

    def backend(self):
        return self.steps[self.step][1]

    def key(self):
        st = self.steps[self.step]
        return dependent_key(self.last) if st[3] else st[2]

    def fetched(self, reply):
        if reply is None:
            raise TaskError("fetch %r: key not found" % self.key())
        if len(reply) != self.job.value_size:
            raise TaskError("fetch %r: reply of %d bytes, want %d" % (self.key(), len(reply), self.job.value_size))
        h = fnv1a(FNV_OFFSET, reply)
        self.sum = mix(self.sum, h)
        self.last = h
        self.step += 1

    def compute(self):
        _, kernel, lo, hi = self.steps[self.step]
        job = self.job
        if kernel == 0:
            self.sum = mix(self.sum, self.task)
        elif kernel == 1:
            self.value += dot(job.a, job.b, lo, hi)
        elif kernel == 2:
            self.sum = mix(self.sum, mandelbrot_row(job.mandelbrot, lo))
        elif kernel == 3:
            n = job.message_size
            self.sum = mix(self.sum, fnv1a(FNV_OFFSET, job.messages[lo * n:(lo + 1) * n]))
        elif kernel == 4:
            self.sum = mix(self.sum, render(self.task, self.sum, self.last))
        elif kernel == 5:
            h = self.sum
            block = job.burst_block
            for _ in range(lo):
                h = fnv1a(h, block)
            self.sum = mix(self.sum, h)
        else:
            raise ValueError("unknown kernel %d" % kernel)
        self.step += 1


def run_task(job, i, conns):
    """Runs task i synchronously, fetching through conns (a SyncConns)."""
    c = Cursor(job, i)
    while not c.done():
        if c.is_fetch():
            c.fetched(conns.get(c.backend(), c.key()))
        else:
            c.compute()
    return c


# ---------------------------------------------------------------- RESP


def get_request(key):
    k = key.encode()
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k)


def command(*args):
    """A RESP request of bulk-string arguments (str or bytes)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def auth_request(auth):
    """The AUTH request of the job line's "auth" ({"password"} or {"user",
    "password"}), or b"" when there is none: a connection sends it before
    anything else and reads its reply with check_auth_reply."""
    if not auth or not auth.get("password"):
        return b""
    if auth.get("user"):
        return command("AUTH", auth["user"], auth["password"])
    return command("AUTH", auth["password"])


def check_auth_reply(line):
    """Checks the reply line to AUTH: +OK, or a TaskError that says the
    backend refused (never showing the password)."""
    if line == b"+OK\r\n":
        return
    if line[:1] == b"-":
        raise TaskError("AUTH refused by the backend: %s" % line[1:].strip().decode("utf-8", "replace"))
    if not line:
        raise TaskError("AUTH: connection closed by the backend")
    raise TaskError("AUTH: unexpected reply %r" % line[:64])


class RespError(TaskError):
    """The server answered with an error reply."""


def bulk_length(line):
    """Parses the first line of a reply to GET: the bulk length, or -1 for
    nil. Raises RespError for an error reply, TaskError for garbage."""
    if line[:1] == b"$":
        return int(line[1:-2])
    if line[:1] == b"-":
        raise RespError(line[1:-2].decode("utf-8", "replace"))
    if not line:
        raise TaskError("connection closed by the backend")
    raise TaskError("unexpected reply %r" % line[:64])


class SyncConn:
    """One blocking connection: GET key, wait for the reply. auth, when not
    empty, is sent first and must be answered +OK."""

    def __init__(self, addr, timeout, auth=b""):
        self.sock = socket.create_connection(addr, timeout=timeout)
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
        self.sock.sendall(get_request(key))
        n = bulk_length(self.rfile.readline())
        if n < 0:
            return None
        data = self.rfile.read(n + 2)
        if len(data) != n + 2:
            raise TaskError("connection closed mid-reply")
        return data[:n]

    def close(self):
        self.rfile.close()
        self.sock.close()


class SyncConns:
    """One connection to each backend (strategies.Conns): a connection that
    fails a request is closed and redialled on its next use."""

    def __init__(self, job):
        self.job = job
        self.conns = [SyncConn(a, job.fetch_timeout, job.auth) for a in job.backends]

    def get(self, b, key):
        c = self.conns[b]
        if c is None:
            try:
                c = self.conns[b] = SyncConn(self.job.backends[b], self.job.fetch_timeout, self.job.auth)
            except OSError as e:
                raise TaskError("redial backend %s:%d: %s" % (self.job.backends[b] + (e,)))
        try:
            return c.get(key)
        except RespError:
            raise
        except (OSError, TaskError, ValueError) as e:
            c.close()
            self.conns[b] = None
            if isinstance(e, TaskError):
                raise
            raise TaskError("GET %s: %s" % (key, e or type(e).__name__))

    def close(self):
        for c in self.conns:
            if c is not None:
                c.close()


# ---------------------------------------------------------------- protocol


class Protocol:
    """The child's side of PROTOCOL.md over stdin and stdout."""

    def __init__(self, job):
        self.job = job
        self.t0 = 0

    @classmethod
    def start(cls):
        line = sys.stdin.buffer.readline()
        if not line:
            raise SystemExit("concbench: no job on stdin")
        return cls(Job(json.loads(line)))

    @staticmethod
    def _write(obj):
        # One write(2) per line, unbuffered: the harness timestamps a task's
        # end when its line arrives. Lines are short, so each write is atomic
        # on the pipe and threads need no lock.
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        while data:
            n = os.write(1, data)
            data = data[n:]

    def ready(self):
        """Says setup is done and blocks until the harness says go."""
        self._write({"ready": True, "float32": FLOAT32})
        go = sys.stdin.buffer.readline()
        if go.strip() != b"go":
            raise SystemExit("concbench: expected go, got %r" % go[:40])
        self.t0 = time.monotonic_ns()

    def now(self):
        """Nanoseconds since go: the clock of start_ns and end_ns."""
        return time.monotonic_ns() - self.t0

    def report(self, i, start_ns, cursor=None, error=None):
        line = {"task": i, "start_ns": start_ns, "end_ns": self.now()}
        if cursor is not None:
            line["sum"] = str(cursor.sum)
            line["value"] = cursor.value
        if error is not None:
            line["error"] = str(error) or type(error).__name__
        self._write(line)

    def done(self):
        self._write({"done": True})


def main(run):
    """Runs a strategy: run(proto) does setup, proto.ready() and the tasks.
    An exception is reported as a fatal line plus a traceback on stderr."""
    try:
        proto = Protocol.start()
        run(proto)
        proto.done()
    except SystemExit:
        raise
    except BaseException as e:
        import traceback

        traceback.print_exc()
        try:
            Protocol._write({"fatal": "%s: %s" % (type(e).__name__, e)})
        except OSError:
            pass
        sys.exit(1)


def run_sync_task(proto, i, conns):
    """Runs task i on conns and reports it: the body of every thread-based
    strategy's task."""
    start = proto.now()
    try:
        c = run_task(proto.job, i, conns)
    except TaskError as e:
        proto.report(i, start, error="task %d: %s" % (i, e))
    except Exception as e:  # a bug in a kernel: report it, keep going
        proto.report(i, start, error="task %d: %s: %s" % (i, type(e).__name__, e))
    else:
        proto.report(i, start, c)


# ---------------------------------------------------------------- async


class AsyncConns:
    """One connection to each backend for coroutine strategies. connect(addr)
    is a coroutine returning an object with coroutines get(key) and
    auth(request) (send the AUTH request, check its reply with
    check_auth_reply) and close(); a connection that fails a request is
    redialled on its next use. Every connection sends the job's AUTH first,
    when it has one."""

    def __init__(self, job, connect):
        self.job = job
        self.connect = connect
        self.conns = []

    async def _dial(self, addr):
        c = await self.connect(addr)
        if self.job.auth:
            try:
                await c.auth(self.job.auth)
            except BaseException:
                c.close()
                raise
        return c

    async def open(self):
        for a in self.job.backends:
            self.conns.append(await self._dial(a))
        return self

    async def get(self, b, key):
        c = self.conns[b]
        if c is None:
            try:
                c = self.conns[b] = await self._dial(self.job.backends[b])
            except OSError as e:
                raise TaskError("redial backend %s:%d: %s" % (self.job.backends[b] + (e,)))
        try:
            return await c.get(key)
        except RespError:
            raise
        except Exception as e:
            c.close()
            self.conns[b] = None
            if isinstance(e, TaskError):
                raise
            raise TaskError("GET %s: %s" % (key, str(e) or type(e).__name__))

    def close(self):
        for c in self.conns:
            if c is not None:
                c.close()


async def run_async_task(proto, i, conns):
    """Runs task i, awaiting each fetch on conns (an AsyncConns), and reports
    it. Compute steps run in line: they block the event loop, the lesson."""
    start = proto.now()
    c = Cursor(proto.job, i)
    try:
        while not c.done():
            if c.is_fetch():
                c.fetched(await conns.get(c.backend(), c.key()))
            else:
                c.compute()
    except TaskError as e:
        proto.report(i, start, error="task %d: %s" % (i, e))
    except Exception as e:
        proto.report(i, start, error="task %d: %s: %s" % (i, type(e).__name__, e))
    else:
        proto.report(i, start, c)
