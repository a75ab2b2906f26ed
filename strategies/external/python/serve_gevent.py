"""py-gevent, serve mode: gevent.pywsgi's WSGIServer, a greenlet per
connection (from an unbounded gevent.pool.Pool, so they can be stopped),
a WSGI application doing the two lookups on gevent sockets from a pool of
conns backend connections (params: conns). The code reads as blocking;
the hub switches greenlets at every socket wait.

pywsgi bounds the request line (8 KiB) but neither the head's total size
nor the time it may take: its request stream is serve_ext's
RequestReader on the gevent socket, which adds both (max_head, and
header_timeout from a request's first byte)."""

import os
import socket

import gevent.pool
import gevent.queue
import gevent.socket
from gevent.pywsgi import WSGIHandler, WSGIServer

import serve_ext as se

RESPONSE_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
                b"Content-Length: 0\r\n\r\n")


class PageWSGIHandler(WSGIHandler):
    """pywsgi's handler with the head bounded in size and time, and the raw
    request-target passed to the application (PATH_INFO is unquoted)."""

    def __init__(self, sock, address, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile=se.RequestReader(sock, server.job))

    def handle_one_request(self):
        r = self.rfile
        try:
            if not r.wait_request():
                return None
            r.begin_head()
            return super().handle_one_request()
        except se.HeadTooLarge:  # in the request line; in a header, pywsgi answers 400
            return ("431", RESPONSE_431)
        except OSError:  # TimeoutError: idle too long, or a head too slow
            return None

    def read_request(self, raw_requestline):
        ok = super().read_request(raw_requestline)
        self.rfile.end_head()
        return ok

    def _handle_client_error(self, ex):
        # pywsgi's hook for a request it could not read: a head too slow (a
        # timeout) or a client gone closes the connection without a
        # traceback; anything else is pywsgi's 400.
        if isinstance(ex, OSError):
            return None
        return super()._handle_client_error(ex)

    def get_environ(self):
        env = super().get_environ()
        env["concbench.target"] = self.path
        return env


def make_app(job, backend):
    def headers(body, close=False):
        h = [("Content-Type", se.CONTENT_TYPE), ("Content-Length", str(len(body)))]
        if close:
            h.append(("Connection", "close"))
        return h

    def app(environ, start_response):
        if environ["REQUEST_METHOD"] != "GET":
            body = b"only GET\n"
            start_response("405 Method Not Allowed", headers(body, close=True))
            return [body]
        pid = se.page_id(environ["concbench.target"].encode("latin-1"), job.pages)
        if pid < 0:
            start_response("404 Not Found", headers(se.NOT_FOUND_BODY))
            return [se.NOT_FOUND_BODY]
        try:
            body = backend.page(pid)
        except se.LookupError502:
            start_response("502 Bad Gateway", headers(se.BAD_GATEWAY_BODY))
            return [se.BAD_GATEWAY_BODY]
        start_response("200 OK", headers(body))
        return [body]

    return app


def run(job):
    backend = se.SyncPool(job, job.param("conns", 256), sockmod=gevent.socket, queue_mod=gevent.queue)
    backend.prime()
    server = WSGIServer(job.listener(blocking=False), make_app(job, backend), handler_class=PageWSGIHandler,
                        spawn=gevent.pool.Pool(), log=None, error_log=None)
    server.job = job
    server.start()
    se.ready()
    os.set_blocking(0, False)
    while True:
        gevent.socket.wait_read(0)
        if se.stdin_closed():
            break
    server.stop(timeout=0)  # closes the listener, kills the connections' greenlets
    backend.close()


if __name__ == "__main__":
    se.main(run)
