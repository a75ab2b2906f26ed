"""py-blocking, serve mode: http.server.HTTPServer as it is, HTTP/1.1
keep-alive: one connection at a time, served until it is over, every
request's two lookups blocking the whole server on its one backend
connection. While a client stays connected the others wait, unanswered, in
the accept backlog: the iterative server of the seed articles, and the Go
blocking server's model (at most one connection served at once)."""

import serve_ext as se


def run(job):
    backend = se.SyncPool(job, 1)
    backend.prime()
    server = se.BlockingPageServer(job, job.listener(blocking=True), backend)
    se.watch_stdin(server.stop)
    se.ready()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        backend.close()


if __name__ == "__main__":
    se.main(run)
