"""py-tornado: a coroutine per task on Tornado's IOLoop, Tornado IOStreams
from TCPClient, connections borrowed from a tornado.queues.Queue."""

import asyncio

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.queues import Queue
from tornado.tcpclient import TCPClient

import concbench_ext as cb


class IOStreamConn:
    def __init__(self, stream, timeout):
        self.stream, self.timeout = stream, timeout

    @classmethod
    async def connect(cls, client, addr, timeout):
        stream = await client.connect(addr[0], addr[1], timeout=timeout)
        stream.set_nodelay(True)
        return cls(stream, timeout)

    async def _get(self, key):
        try:
            self.stream.write(cb.get_request(key))
            n = cb.bulk_length(await self.stream.read_until(b"\r\n", max_bytes=1 << 16))
            if n < 0:
                return None
            data = await self.stream.read_bytes(n + 2)
        except StreamClosedError as e:
            raise cb.TaskError("connection closed: %s" % (e.real_error or e))
        return data[:n]

    async def get(self, key):
        # Tornado 6 runs on asyncio, so asyncio's cheap timeout applies.
        async with asyncio.timeout(self.timeout):
            return await self._get(key)

    async def auth(self, request):
        async with asyncio.timeout(self.timeout):
            try:
                self.stream.write(request)
                line = await self.stream.read_until(b"\r\n", max_bytes=1 << 16)
            except StreamClosedError as e:
                raise cb.TaskError("AUTH: connection closed: %s" % (e.real_error or e))
            cb.check_auth_reply(line)

    def close(self):
        self.stream.close()


async def main_async(proto):
    job = proto.job
    n = min(job.param("conns", 256), len(job.tasks))
    client = TCPClient()

    async def connect(addr):
        return await IOStreamConn.connect(client, addr, job.fetch_timeout)

    pool = Queue()
    sets = [await cb.AsyncConns(job, connect).open() for _ in range(n)]
    for s in sets:
        pool.put_nowait(s)
    proto.ready()

    async def task(i):
        conns = await pool.get()
        try:
            await cb.run_async_task(proto, i, conns)
        finally:
            pool.put_nowait(conns)

    for ids in job.passes():
        await gen.multi([task(i) for i in ids])
    for s in sets:
        s.close()
    client.close()


def run(proto):
    IOLoop.current().run_sync(lambda: main_async(proto))


if __name__ == "__main__":
    cb.main(run)
