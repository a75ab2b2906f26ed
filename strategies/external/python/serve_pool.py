"""py-pool, serve mode: http.server's handler on a
concurrent.futures.ThreadPoolExecutor of workers threads (params: workers)
that take requests, not connections, and a pool of as many blocking
backend connections (RequestPoolServer in serve_ext). One selector thread
holds the idle keep-alive connections and hands each request to the pool:
at most workers requests are in progress, any number of clients stay
connected, as in the Go pool server."""

import os

import serve_ext as se


def run(job):
    workers = job.param("workers", 4 * (os.cpu_count() or 1))
    backend = se.SyncPool(job, workers)
    backend.prime()
    server = se.RequestPoolServer(job, job.listener(blocking=False), backend, workers)
    se.ready()
    try:
        server.serve()
    finally:
        server.server_close()
        backend.close()


if __name__ == "__main__":
    se.main(run)
