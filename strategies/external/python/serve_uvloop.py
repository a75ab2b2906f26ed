"""py-uvloop, serve mode: py-asyncio's server (serve_asyncio) unchanged, on
uvloop's event loop (libuv): the same coroutines, streams and parser, so
the difference is the loop's."""

import asyncio

import uvloop

import serve_asyncio
import serve_ext as se


def run(job):
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    serve_asyncio.run(job)


if __name__ == "__main__":
    se.main(run)
