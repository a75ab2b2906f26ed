"""py-threads, serve mode: http.server.ThreadingHTTPServer, a thread per
connection serving its keep-alive requests in turn, at most max threads at
once (params: max; past that a connection waits, unanswered, for a thread
to end, as in the Go threads server), the lookups on blocking sockets from
a pool of max backend connections. Under the GIL the threads take turns on
one core."""

import serve_ext as se


def run(job):
    n = job.param("max", 256)
    backend = se.SyncPool(job, n)
    backend.prime()
    server = se.ThreadingPageServer(job, job.listener(blocking=True), backend, n)
    se.watch_stdin(server.stop)
    se.ready()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()  # joins the connection threads
        backend.close()


if __name__ == "__main__":
    se.main(run)
