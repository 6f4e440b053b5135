"""The thread-pool starvation deadlock of fastapi/fastapi#3205, over HTTP on a real uvicorn.

A "database pool" of one connection, a sync ``yield`` dependency that checks the
connection out in its setup and back in in its teardown, a ``def`` endpoint that
uses it, and two threads in the default thread limiter.  Unwrapped, the setups of
the waiting requests take both threads while they wait for the connection, so the
request holding it cannot get a thread for its endpoint: the setups time out ("pool
exhausted", HTTP 500) one after another.  Wrapped with ``offload_dependency`` under a
limiter sized like the pool, the setups wait for that limiter's token instead of a
shared thread, and every request succeeds.
"""

from __future__ import annotations

import contextlib
import threading
import time
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

REQUESTS = 6
THREADS = 2
ACQUIRE_TIMEOUT = 3.0  # the pool's checkout timeout: a starved request fails after it
CONNECT_LATENCY = 0.2  # setup holds its thread a moment after the checkout, like a real ping

DB = Limiter("db-starvation", size=1)  # sized like the pool

pool = threading.BoundedSemaphore(1)  # stands in for a database pool of one connection


class PoolExhaustedError(Exception):
    """The pool had no free connection within ``ACQUIRE_TIMEOUT``."""


def get_connection() -> Iterator[str]:
    if not pool.acquire(timeout=ACQUIRE_TIMEOUT):
        raise PoolExhaustedError
    try:
        time.sleep(CONNECT_LATENCY)
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

    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(PoolExhaustedError, pool_exhausted)

    @app.get("/query")
    def query(connection: str = Depends(dependency)) -> str:  # a local: no Annotated string
        return connection

    if wrapped:
        install(app, threads=THREADS)
    return app


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a background thread; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "uvicorn failed to start"
            assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
    assert not thread.is_alive(), "uvicorn did not stop within 15 s"


async def fire(base_url: str) -> list[tuple[int, Any]]:
    """``REQUESTS`` concurrent GETs of ``/query``; their status codes and bodies."""
    results: list[tuple[int, Any]] = []
    timeout = httpx.Timeout(6 * ACQUIRE_TIMEOUT)
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:

        async def one() -> None:
            response = await client.get("/query")
            results.append((response.status_code, response.json()))

        with anyio.fail_after(8 * ACQUIRE_TIMEOUT):
            async with anyio.create_task_group() as group:
                for _ in range(REQUESTS):
                    group.start_soon(one)
    return results


def assert_pool_released() -> None:
    # teardown runs after the response is sent; the server has stopped, so it has run
    assert pool.acquire(timeout=ACQUIRE_TIMEOUT), "the connection was never given back"
    pool.release()


_SERVER_WAITS = pytest.mark.boundary_allow(
    "time.sleep",
    "threading.Thread.join",
    reason="serve() polls and joins uvicorn's thread from the test's own loop",
)


@pytest.mark.anyio
@_SERVER_WAITS
async def test_a_sync_yield_dependency_starves_the_default_thread_pool() -> None:
    with serve(make_app(get_connection, wrapped=False)) as base_url:
        results = await fire(base_url)
    assert_pool_released()
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {200, 500}, results
    # the starvation: requests failed waiting for the one connection, whose holder was
    # waiting for a thread that those very requests held
    assert statuses.count(500) >= 1, results
    assert all(body == {"detail": "pool exhausted"} for status, body in results if status == 500)


@pytest.mark.anyio
@_SERVER_WAITS
async def test_offload_dependency_prevents_the_starvation() -> None:
    connection = offload_dependency(get_connection, limiter=DB)
    with serve(make_app(connection, wrapped=True)) as base_url:
        results = await fire(base_url)
    assert_pool_released()
    assert results == [(200, "connection")] * REQUESTS
