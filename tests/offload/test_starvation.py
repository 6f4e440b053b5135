"""The thread-pool starvation deadlock of fastapi/fastapi#3205, over HTTP on a real uvicorn.

A "database pool" of one connection, a sync ``yield`` dependency that checks the
connection out in its setup and back in in its teardown, a ``def`` endpoint that
uses it, and two threads in the default thread limiter.  Unwrapped, the setups of
the waiting requests take both threads while they wait for the connection, so the
request holding it cannot get a thread for its endpoint: the setups time out ("pool
exhausted", HTTP 500) one after another.  Wrapped with ``offload_dependency`` under a
limiter sized like the pool, the setups wait for that limiter's token instead of a
shared thread, and every request succeeds.

The setup that holds the connection keeps its thread (a real driver would ping the
database) until every request has reached the app: the requests then compete for the
threads however slowly a loaded machine delivers them, instead of within a guessed delay.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from fastapi_boundary import Limiter, install, offload_dependency
from tests.helpers import WAIT, wait_until

pytestmark = pytest.mark.slow  # real uvicorn servers, and timeouts by design

REQUESTS = 6
THREADS = 2
ACQUIRE_TIMEOUT = 3.0  # the pool's checkout timeout: a starved request fails after it

DB = Limiter("db-starvation", size=1)  # sized like the pool

pool = threading.BoundedSemaphore(1)  # stands in for a database pool of one connection


class Arrivals:
    """Counts the requests that reached the endpoint's dependencies; ``all_in``: all did."""

    def __init__(self) -> None:
        self.count = 0
        self.all_in = threading.Event()

    def reset(self) -> None:
        self.count = 0
        self.all_in = threading.Event()


arrivals = Arrivals()


async def arrived() -> None:
    """The endpoint's first dependency: async, so it runs on the loop and needs no thread."""
    arrivals.count += 1
    if arrivals.count == REQUESTS:
        arrivals.all_in.set()


class PoolExhaustedError(Exception):
    """The pool had no free connection within ``ACQUIRE_TIMEOUT``."""


def get_connection() -> Iterator[str]:
    if not pool.acquire(timeout=ACQUIRE_TIMEOUT):
        raise PoolExhaustedError
    try:
        arrivals.all_in.wait(WAIT)  # the "ping": holds the thread until every request is in
        yield "connection"
    finally:
        pool.release()


async def pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "pool exhausted"}, status_code=500)


def make_app(dependency: Callable[..., Any], *, wrapped: bool) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not wrapped:  # without the library: shrink anyio's default limiter directly
            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield

    arrivals.reset()
    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(PoolExhaustedError, pool_exhausted)

    @app.get("/query", dependencies=[Depends(arrived)])  # resolved before the parameters
    def query(connection: str = Depends(dependency)) -> str:  # a local: no Annotated string
        return connection

    if wrapped:
        install(app, threads=THREADS)
    return app


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a background thread; yield its base URL.

    The test's own loop waits without blocking (the strict guard is watching it).
    """
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        await wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn failed to start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, WAIT)
    assert not thread.is_alive(), f"uvicorn did not stop within {WAIT} s"


async def fire(base_url: str) -> list[tuple[int, Any]]:
    """``REQUESTS`` concurrent GETs of ``/query``; their status codes and bodies."""
    results: list[tuple[int, Any]] = []
    timeout = httpx.Timeout(WAIT)
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:

        async def one() -> None:
            response = await client.get("/query")
            results.append((response.status_code, response.json()))

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as group:
                for _ in range(REQUESTS):
                    group.start_soon(one)
    return results


def pool_released() -> bool:
    # teardown runs after the response is sent; the server has stopped, so it has run
    if not pool.acquire(timeout=ACQUIRE_TIMEOUT):
        return False
    pool.release()
    return True


@pytest.mark.anyio
async def test_a_sync_yield_dependency_starves_the_default_thread_pool() -> None:
    async with serve(make_app(get_connection, wrapped=False)) as base_url:
        results = await fire(base_url)
    assert await anyio.to_thread.run_sync(pool_released), "the connection was never given back"
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {200, 500}, results
    # the starvation: requests failed waiting for the one connection, whose holder was
    # waiting for a thread that those very requests held
    assert statuses.count(500) >= 1, results
    assert all(body == {"detail": "pool exhausted"} for status, body in results if status == 500)


@pytest.mark.anyio
async def test_offload_dependency_prevents_the_starvation() -> None:
    connection = offload_dependency(get_connection, limiter=DB)
    async with serve(make_app(connection, wrapped=True)) as base_url:
        results = await fire(base_url)
    assert await anyio.to_thread.run_sync(pool_released), "the connection was never given back"
    assert results == [(200, "connection")] * REQUESTS
