"""py-pool: concurrent.futures.ThreadPoolExecutor with a fixed number of
workers, each task borrowing one of as many connection sets."""

import queue
from concurrent.futures import ThreadPoolExecutor, wait

import concbench_ext as cb


def run(proto):
    job = proto.job
    n = min(job.param("workers", 8), len(job.tasks))
    pool = queue.SimpleQueue()
    sets = [cb.SyncConns(job) for _ in range(n)]
    for s in sets:
        pool.put(s)
    with ThreadPoolExecutor(max_workers=n) as ex:
        # Start every worker thread before go: a warm pool.
        wait([ex.submit(lambda: None) for _ in range(n)])
        proto.ready()

        def task(i):
            conns = pool.get()  # never waits: at most n tasks run at once
            try:
                cb.run_sync_task(proto, i, conns)
            finally:
                pool.put(conns)

        for ids in job.passes():
            for f in [ex.submit(task, i) for i in ids]:
                f.result()
    for s in sets:
        s.close()


if __name__ == "__main__":
    cb.main(run)
