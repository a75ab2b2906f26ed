"""py-twisted: a Twisted Protocol that pipelines GETs on a connection,
coroutines (ensureDeferred) per task on the reactor, connections borrowed
from a DeferredQueue."""

from collections import deque

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

import concbench_ext as cb


class RespProtocol(Protocol):
    """Parses RESP replies from dataReceived and fires the Deferred of the
    oldest outstanding GET."""

    def __init__(self):
        self.buf = bytearray()
        self.waiting = deque()
        self.authing = None  # the Deferred of the AUTH sent, until its reply
        self.lost = None

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def get(self, key):
        if self.lost is not None:
            return defer.fail(cb.TaskError("connection lost: %s" % self.lost))
        d = defer.Deferred()
        self.waiting.append(d)
        self.transport.write(cb.get_request(key))
        return d

    def auth(self, request):
        """Sends AUTH (before any GET); the Deferred fires on its +OK."""
        if self.lost is not None:
            return defer.fail(cb.TaskError("connection lost: %s" % self.lost))
        self.authing = defer.Deferred()
        self.transport.write(request)
        return self.authing

    def dataReceived(self, data):
        self.buf += data
        buf = self.buf
        if self.authing is not None:
            end = buf.find(b"\r\n")
            if end < 0:
                return
            line = bytes(buf[: end + 2])
            del buf[: end + 2]
            d, self.authing = self.authing, None
            try:
                cb.check_auth_reply(line)
            except cb.TaskError as e:
                d.errback(e)
            else:
                d.callback(None)
        while self.waiting:
            end = buf.find(b"\r\n")
            if end < 0:
                return
            try:
                n = cb.bulk_length(bytes(buf[: end + 2]))
            except cb.TaskError as e:
                del buf[: end + 2]
                self.waiting.popleft().errback(e)
                continue
            if n < 0:
                del buf[: end + 2]
                self.waiting.popleft().callback(None)
                continue
            if len(buf) < end + 2 + n + 2:
                return
            value = bytes(buf[end + 2 : end + 2 + n])
            del buf[: end + 2 + n + 2]
            self.waiting.popleft().callback(value)

    def connectionLost(self, reason=None):
        self.lost = reason.getErrorMessage() if reason is not None else "closed"
        if self.authing is not None:
            d, self.authing = self.authing, None
            d.errback(cb.TaskError("AUTH: connection lost: %s" % self.lost))
        while self.waiting:
            self.waiting.popleft().errback(cb.TaskError("connection lost: %s" % self.lost))


class TwistedConn:
    def __init__(self, proto, timeout):
        self.proto, self.timeout = proto, timeout

    @classmethod
    async def connect(cls, addr, timeout):
        ep = TCP4ClientEndpoint(reactor, addr[0], addr[1], timeout=timeout)
        return cls(await connectProtocol(ep, RespProtocol()), timeout)

    async def get(self, key):
        return await self.proto.get(key).addTimeout(self.timeout, reactor)

    async def auth(self, request):
        return await self.proto.auth(request).addTimeout(self.timeout, reactor)

    def close(self):
        if self.proto.transport is not None:
            self.proto.transport.abortConnection()


async def main_async(proto):
    job = proto.job
    n = min(job.param("conns", 256), len(job.tasks))

    async def connect(addr):
        return await TwistedConn.connect(addr, job.fetch_timeout)

    pool = defer.DeferredQueue()
    sets = [await cb.AsyncConns(job, connect).open() for _ in range(n)]
    for s in sets:
        pool.put(s)
    proto.ready()

    async def task(i):
        conns = await pool.get()
        try:
            await cb.run_async_task(proto, i, conns)
        finally:
            pool.put(conns)

    for ids in job.passes():
        await defer.gatherResults([defer.ensureDeferred(task(i)) for i in ids], consumeErrors=True)
    for s in sets:
        s.close()


def run(proto):
    outcome = []

    def start():
        d = defer.ensureDeferred(main_async(proto))
        d.addBoth(lambda r: (outcome.append(r), reactor.stop()))

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    if outcome and isinstance(outcome[0], Failure):
        outcome[0].raiseException()


if __name__ == "__main__":
    cb.main(run)
