"""py-gevent: monkey-patched blocking sockets, a greenlet per task from a
gevent.pool.Pool of conns greenlets, each holding one connection set."""

from gevent import monkey

monkey.patch_all()

import gevent.pool  # noqa: E402
import gevent.queue  # noqa: E402

import concbench_ext as cb  # noqa: E402


def run(proto):
    job = proto.job
    n = min(job.param("conns", 256), len(job.tasks))
    conns = gevent.queue.Queue()
    sets = [cb.SyncConns(job) for _ in range(n)]
    for s in sets:
        conns.put(s)
    greenlets = gevent.pool.Pool(n)
    proto.ready()

    def task(i):
        c = conns.get()
        try:
            cb.run_sync_task(proto, i, c)
        finally:
            conns.put(c)

    for ids in job.passes():
        for i in ids:
            greenlets.spawn(task, i)
        greenlets.join(raise_error=True)
    for s in sets:
        s.close()


if __name__ == "__main__":
    cb.main(run)
