"""py-twisted, serve mode: twisted.web's Site on the reactor, a leaf
Resource that routes /page/{id} itself and answers NOT_DONE_YET, its two
lookups made through a RESP Protocol (Deferreds, awaited in a coroutine)
from a pool of conns backend connections (params: conns) borrowed through
a DeferredQueue.

twisted.web bounds a head's size (totalHeadersSize, set to max_head) and
the idle time between bytes (Site's timeout), but not the time a head may
take, so a client sending a header every second holds a connection for
ever. Channel adds that bound: header_timeout from the first byte of a head
still incomplete, then the connection is aborted."""

import os
import socket
import sys

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IReadDescriptor
from twisted.python.failure import Failure
from twisted.web import http, resource, server
from zope.interface import implementer

import serve_ext as se
from concbench_ext import bulk_length, check_auth_reply, get_request

# ---------------------------------------------------------------- backend


class RespProtocol(protocol.Protocol):
    """A RESP connection: get(key) sends GET and returns a Deferred of the
    reply, parsed in dataReceived. A pooled connection has one request's
    lookups at a time, one GET outstanding."""

    def __init__(self):
        self.buf = bytearray()
        self.waiting = None
        self.authing = False  # waiting holds the Deferred of AUTH, not of a GET
        self.lost = None

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def get(self, key):
        if self.lost is not None:
            return defer.fail(ConnectionError("backend connection lost: %s" % self.lost))
        self.waiting = defer.Deferred(lambda d: self.abort())
        self.transport.write(get_request(key))
        return self.waiting

    def auth(self, request):
        """Sends AUTH (before any GET); the Deferred fires on its +OK."""
        if self.lost is not None:
            return defer.fail(ConnectionError("backend connection lost: %s" % self.lost))
        self.waiting = defer.Deferred(lambda d: self.abort())
        self.authing = True
        self.transport.write(request)
        return self.waiting

    def dataReceived(self, data):
        self.buf += data
        if self.waiting is None:
            return
        buf = self.buf
        end = buf.find(b"\r\n")
        if end < 0:
            return
        d, self.waiting = self.waiting, None
        if self.authing:
            self.authing = False
            line = bytes(buf[:end + 2])
            del buf[:end + 2]
            try:
                check_auth_reply(line)
            except Exception as e:
                d.errback(e)
            else:
                d.callback(None)
            return
        try:
            n = bulk_length(bytes(buf[:end + 2]))
        except Exception as e:
            del buf[:end + 2]
            d.errback(e)
            return
        if n < 0:
            del buf[:end + 2]
            d.callback(None)
            return
        if len(buf) < end + 2 + n + 2:
            self.waiting = d
            return
        value = bytes(buf[end + 2:end + 2 + n])
        del buf[:end + 2 + n + 2]
        d.callback(value)

    def connectionLost(self, reason=None):
        self.lost = reason.getErrorMessage() if reason is not None else "closed"
        if self.waiting is not None:
            d, self.waiting = self.waiting, None
            d.errback(ConnectionError("backend connection lost: %s" % self.lost))

    def abort(self):
        if self.transport is not None:
            self.transport.abortConnection()


class TwistedPool(se.EventLoopPool):
    """The Go servers' bounded pool on the reactor (se.EventLoopPool): size
    slots in a DeferredQueue, each a connection or None (dialled on use),
    every wait bounded by the fetch timeout (Deferred.addTimeout); a
    connection whose lookup broke or timed out is aborted and its slot
    emptied."""

    take_timeout = defer.TimeoutError

    def __init__(self, job, size):
        self.job = job
        self.slots = defer.DeferredQueue()
        self.fill(size)

    async def take(self, timeout):
        return await self.slots.get().addTimeout(timeout, reactor)

    def give_back(self, conn):
        self.slots.put(conn)

    async def dial(self):
        """Connects and, when the job has an AUTH, sends it and checks +OK."""
        host, port = self.job.backend
        ep = TCP4ClientEndpoint(reactor, host, port, timeout=self.job.fetch_timeout)
        conn = await connectProtocol(ep, RespProtocol())
        if self.job.auth:
            try:
                await conn.auth(self.job.auth).addTimeout(self.job.fetch_timeout, reactor)
            except BaseException:
                conn.abort()
                raise
        return conn

    async def get(self, conn, key):
        return await conn.get(key).addTimeout(self.job.fetch_timeout, reactor)

    def discard(self, conn):
        conn.abort()

    def close(self):
        while self.slots.pending:
            conn = self.slots.pending.pop()
            if conn is not None:
                conn.abort()


# ---------------------------------------------------------------- web


class PageResource(resource.Resource):
    """The whole site: routes the raw request-target itself (404 for any
    other), so every spelling the contract names is answered as it says."""

    isLeaf = True

    def __init__(self, job, pool):
        super().__init__()
        self.job, self.pool = job, pool

    def render_GET(self, request):
        request.setHeader(b"content-type", se.CONTENT_TYPE.encode())
        pid = se.page_id(request.uri, self.job.pages)
        if pid < 0:
            request.setResponseCode(404)
            return se.NOT_FOUND_BODY
        gone = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        defer.ensureDeferred(self.pool.page(pid)).addBoth(self.answer, request, gone)
        return server.NOT_DONE_YET

    @staticmethod
    def answer(result, request, gone):
        if gone:
            return
        if isinstance(result, Failure):
            if not result.check(se.LookupError502):
                print("serve: page: %s" % result.getErrorMessage(), file=sys.stderr)
            code, body = 502, se.BAD_GATEWAY_BODY
        else:
            code, body = 200, result
        request.setResponseCode(code)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        request.finish()


class Channel(http.HTTPChannel):
    """twisted.web's HTTPChannel with a bound on the time a head takes:
    after each delivery of bytes (and after each response, which replays
    pipelined bytes) a head begun but not complete (a Request created by its
    first line, or a partial line in LineReceiver's _buffer, with no request
    being handled) starts the timer if it is not running; a complete head
    stops it."""

    head_timer = None

    def dataReceived(self, data):
        super().dataReceived(data)
        self.watch_head()

    def requestDone(self, request):
        super().requestDone(request)
        self.watch_head()

    def watch_head(self):
        in_head = not self._handlingRequest and bool(self.requests or self._buffer)
        if in_head and self.head_timer is None:
            self.head_timer = reactor.callLater(self.site.job.header_timeout, self.head_expired)
        elif not in_head and self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_expired(self):
        self.head_timer = None
        self.transport.abortConnection()

    def connectionMade(self):
        super().connectionMade()
        self.transport.setTcpNoDelay(True)
        self.site.channels.add(self)

    def connectionLost(self, reason):
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        self.site.channels.discard(self)
        super().connectionLost(reason)


class PageSite(server.Site):
    protocol = Channel

    def __init__(self, job, pool):
        super().__init__(PageResource(job, pool), timeout=job.idle_timeout)
        self.job = job
        self.channels = set()

    def buildProtocol(self, addr):
        channel = super().buildProtocol(addr)
        channel.totalHeadersSize = self.job.max_head
        return channel


@implementer(IReadDescriptor)
class StdinWatch:
    """Calls on_close when stdin reaches its end."""

    def __init__(self, on_close):
        self.on_close = on_close
        self.closed = False

    def fileno(self):
        return 0

    def doRead(self):
        if se.stdin_closed():
            reactor.removeReader(self)
            self.close()

    def connectionLost(self, reason):
        # The reactor's word for a hang-up (the writer closed the pipe and
        # no byte is left): it has removed the reader already.
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.on_close()

    def logPrefix(self):
        return "stdin"


def run(job):
    pool = TwistedPool(job, job.param("conns", 256))
    site = PageSite(job, pool)
    outcome = []

    def stop():
        port.stopListening()
        for ch in list(site.channels):
            ch.transport.abortConnection()
        pool.close()
        reactor.stop()

    def start():
        def up(_):
            global port
            sock = job.listener(blocking=False)
            port = reactor.adoptStreamPort(sock.fileno(), socket.AF_INET, site)
            sock.close()  # the port holds its own descriptor
            os.set_blocking(0, False)
            reactor.addReader(StdinWatch(stop))
            se.ready()

        def failed(f):
            outcome.append(f)
            reactor.stop()

        defer.ensureDeferred(pool.prime()).addCallbacks(up, failed)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    if outcome:
        outcome[0].raiseException()


port = None

if __name__ == "__main__":
    se.main(run)
