"""py-asyncio: a coroutine per task on one asyncio event loop, asyncio
streams, connections borrowed from a pool of conns sets."""

import asyncio

import concbench_ext as cb

try:
    _timeout = asyncio.timeout  # Python 3.11: no extra task per request
except AttributeError:  # pragma: no cover
    _timeout = None


class StreamConn:
    def __init__(self, reader, writer, timeout):
        self.reader, self.writer, self.timeout = reader, writer, timeout

    @classmethod
    async def connect(cls, addr, timeout):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*addr), timeout)
        return cls(reader, writer, timeout)

    async def _get(self, key):
        self.writer.write(cb.get_request(key))
        n = cb.bulk_length(await self.reader.readline())
        if n < 0:
            return None
        data = await self.reader.readexactly(n + 2)
        return data[:n]

    async def get(self, key):
        if _timeout is None:
            return await asyncio.wait_for(self._get(key), self.timeout)
        async with _timeout(self.timeout):
            return await self._get(key)

    async def _auth(self, request):
        self.writer.write(request)
        cb.check_auth_reply(await self.reader.readline())

    async def auth(self, request):
        if _timeout is None:
            return await asyncio.wait_for(self._auth(request), self.timeout)
        async with _timeout(self.timeout):
            return await self._auth(request)

    def close(self):
        self.writer.close()


async def main_async(proto):
    job = proto.job
    n = min(job.param("conns", 256), len(job.tasks))

    async def connect(addr):
        return await StreamConn.connect(addr, job.fetch_timeout)

    pool = asyncio.Queue()
    sets = [await cb.AsyncConns(job, connect).open() for _ in range(n)]
    for s in sets:
        pool.put_nowait(s)
    proto.ready()  # blocks the loop until go: nothing else runs yet

    async def task(i):
        conns = await pool.get()
        try:
            await cb.run_async_task(proto, i, conns)
        finally:
            pool.put_nowait(conns)

    for ids in job.passes():
        await asyncio.gather(*(task(i) for i in ids))
    for s in sets:
        s.close()


def run(proto):
    asyncio.run(main_async(proto))


if __name__ == "__main__":
    cb.main(run)
