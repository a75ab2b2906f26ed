"""py-uvloop: py-asyncio's code on uvloop's event loop (libuv)."""

import asyncio

import uvloop

import concbench_ext as cb
import py_asyncio


def run(proto):
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(py_asyncio.main_async(proto))


if __name__ == "__main__":
    cb.main(run)
