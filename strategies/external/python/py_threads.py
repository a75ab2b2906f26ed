"""py-threads: a new threading.Thread per task, at most max alive at once;
each borrows a connection set from a pool (thread-per-request)."""

import queue
import threading

import concbench_ext as cb


def run(proto):
    job = proto.job
    n = min(job.param("max", 256), len(job.tasks))
    pool = queue.SimpleQueue()
    sets = [cb.SyncConns(job) for _ in range(n)]
    for s in sets:
        pool.put(s)
    proto.ready()

    def task(i, conns):
        try:
            cb.run_sync_task(proto, i, conns)
        finally:
            pool.put(conns)

    for ids in job.passes():
        threads = []
        for i in ids:
            conns = pool.get()  # the bound: at most n threads alive
            t = threading.Thread(target=task, args=(i, conns))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    for s in sets:
        s.close()


if __name__ == "__main__":
    cb.main(run)
