"""The one async boundary (R4): to_async, offload_dependency and install's thread settings."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import anyio.to_thread
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fastapi_boundary import (
    AsyncProxy,
    AsyncRouter,
    AsyncService,
    Limiter,
    LimiterError,
    OffloadError,
    SyncRepository,
    SyncRouter,
    SyncService,
    check_app,
    install,
    limiter_statistics,
    offload_dependency,
    to_async,
)
from tests.helpers import WAIT, wait_until

CATALOG_LIMITER = Limiter("test-catalog", size=2)
POOL_LIMITER = Limiter("test-pool", size=1)


class CatalogRepository(SyncRepository):
    def titles(self) -> list[str]:
        return ["Dune", "Emma"]


class CatalogService(SyncService, limiter="test-catalog"):
    region = "eu"

    def __init__(self, repository: CatalogRepository) -> None:
        self.repository = repository

    def count(self, *, prefix: str = "") -> int:
        return len([t for t in self.repository.titles() if t.startswith(prefix)])

    def thread_name(self) -> str:
        return threading.current_thread().name

    def _private(self) -> None: ...


def get_catalog() -> AsyncProxy[CatalogService]:
    return to_async(CatalogService(CatalogRepository()))


class Storefront(AsyncService):
    """An async service may hold a proxy of a sync one: the proxy is the boundary."""

    def __init__(self, catalog: AsyncProxy[CatalogService]) -> None:
        self.catalog = catalog

    async def headline(self) -> str:
        return f"{await self.catalog.count(prefix='D')} book(s) with D"


@pytest.mark.anyio
async def test_to_async_runs_sync_methods_in_the_layer_limiter() -> None:
    proxy = to_async(CatalogService(CatalogRepository()))
    assert await proxy.count(prefix="E") == 1
    assert await proxy.thread_name() != threading.current_thread().name
    assert proxy.region == "eu"  # plain attributes pass through
    assert proxy.count is proxy.count  # bound once per proxy
    assert isinstance(proxy.wrapped, CatalogService)
    assert await Storefront(proxy).headline() == "1 book(s) with D"
    with pytest.raises(AttributeError, match="exposes public methods only"):
        proxy._private
    assert repr(proxy).startswith("to_async(<")


@pytest.mark.anyio
async def test_to_async_borrows_the_layer_limiter() -> None:
    release = threading.Event()

    class Slow(SyncService, limiter=CATALOG_LIMITER):
        def wait(self) -> None:
            release.wait(WAIT)

    proxy = to_async(Slow())
    async with anyio.create_task_group() as group:
        group.start_soon(proxy.wait)
        try:
            await wait_until(lambda: CATALOG_LIMITER.statistics().borrowed == 1, "a token")
        finally:
            release.set()


def test_to_async_misuse() -> None:
    class Fetcher(AsyncService):
        async def get(self) -> None: ...

    with pytest.raises(OffloadError, match="it is async already"):
        to_async(Fetcher())
    with pytest.raises(OffloadError, match="takes an instance"):
        to_async(CatalogService)
    with pytest.raises(OffloadError, match="is a function"):
        to_async(get_catalog)
    with pytest.raises(LimiterError, match="no limiter named 'nope'"):
        to_async(CatalogService(CatalogRepository()), limiter="nope")


@pytest.mark.anyio
async def test_an_async_method_on_a_plain_object_is_refused_by_the_proxy() -> None:
    class Mixed:
        async def fetch(self) -> None: ...

    with pytest.raises(OffloadError, match="is already async"):
        to_async(Mixed()).fetch


def test_an_async_route_over_a_proxy_is_a_sanctioned_boundary() -> None:
    router = AsyncRouter()

    @router.get("/count")
    async def count(catalog: Annotated[AsyncProxy[CatalogService], Depends(get_catalog)]) -> int:
        counted: int = await catalog.count()  # to_async is typed loosely (Any)
        return counted

    app = FastAPI()
    app.include_router(router)
    assert check_app(app).ok
    with TestClient(app) as client:
        assert client.get("/count").json() == 2


# --- offload_dependency: the starvation of fastapi/fastapi#3205 -------------------------

pool = threading.BoundedSemaphore(1)  # stands in for a database pool of one connection
events: list[str] = []


def get_connection() -> Iterator[str]:
    if not pool.acquire(timeout=10):
        raise RuntimeError("pool exhausted")
    events.append("acquired")
    try:
        yield "connection"
    finally:
        pool.release()
        events.append("released")


def get_value(connection: Annotated[str, Depends(get_connection)]) -> str:
    return connection.upper()


offloaded = offload_dependency(get_connection, limiter=POOL_LIMITER)
offloaded_value = offload_dependency(get_value, limiter="test-pool")


def get_session() -> Iterator[Session]:
    yield Session()


offloaded_session = offload_dependency(get_session, limiter=POOL_LIMITER)


def test_offloaded_generator_dependency_runs_setup_and_teardown() -> None:
    events.clear()
    router = SyncRouter()

    @router.get("/ok")
    def ok(connection: Annotated[str, Depends(offloaded)]) -> str:
        return connection

    @router.get("/fail")
    def fail(connection: Annotated[str, Depends(offloaded)]) -> str:
        raise HTTPException(409, "conflict")

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/ok").json() == "connection"
        assert client.get("/fail").status_code == 409
    assert events == ["acquired", "released", "acquired", "released"]
    assert offloaded.__name__ == "get_connection"


def test_offloaded_plain_dependency_keeps_its_parameters() -> None:
    app = FastAPI()

    @app.get("/value")
    def value(result: Annotated[str, Depends(offloaded_value)]) -> str:
        return result

    with TestClient(app) as client:
        assert client.get("/value").json() == "CONNECTION"


def test_offload_dependency_misuse() -> None:
    async def already_async() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(OffloadError, match="which is async"):
        offload_dependency(already_async, limiter=POOL_LIMITER)
    with pytest.raises(LimiterError, match="no limiter named 'unknown'"):
        offload_dependency(get_connection, limiter="unknown")


def test_an_async_endpoint_over_an_offloaded_sync_session_is_still_flagged() -> None:
    """Offloading the dependency does not make its sync result safe on the loop."""
    app = FastAPI()

    async def endpoint(session: Any = Depends(offloaded_session)) -> None:
        return None

    app.add_api_route("/s", endpoint)
    (violation,) = check_app(app).violations
    assert "async endpoint endpoint" in violation.summary
    assert "sync driver Session" in violation.summary


# --- install: threads and limiters --------------------------------------------------


def test_install_sizes_the_limiters_at_start_up() -> None:
    app = FastAPI()

    @app.get("/sizes")
    async def sizes() -> dict[str, int]:
        default = anyio.to_thread.current_default_thread_limiter().total_tokens
        stats = {s.name: s.total for s in limiter_statistics()}
        return {"default": int(default), "pool": stats["test-pool"]}

    install(app, threads=7, limiters={"test-pool": 3})
    with TestClient(app) as client:
        assert client.get("/sizes").json() == {"default": 7, "pool": 3}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": 0}, r"install\(threads=...\) must be a whole number of threads >= 1"),
        ({"threads": 2.5}, "whole number"),
        ({"limiters": {"test-pool": -1}}, "must be a whole number"),
        ({"limiters": {"no-such": 3}}, "no limiter named 'no-such'"),
        ({"limiters": [("test-pool", 3)]}, "takes a mapping"),
    ],
    ids=["threads-0", "threads-fraction", "limiter-negative", "limiter-unknown", "not-a-mapping"],
)
def test_install_rejects_bad_thread_settings_at_once(kwargs: Any, message: str) -> None:
    with pytest.raises(LimiterError, match=message):
        install(FastAPI(), **kwargs)


def test_install_starts_and_stops_the_process_pool() -> None:
    from fastapi_boundary import ProcessPoolError, default_process_pool, run_cpu
    from tests.samples.process_targets import scaled_sum

    app = FastAPI()

    @app.get("/cpu")
    async def cpu() -> dict[str, int]:
        _, total = await run_cpu(scaled_sum, 2, 3)
        stats = default_process_pool().statistics()
        return {"total": total, "size": stats.size, "alive": stats.alive}

    before = default_process_pool().size
    install(app, processes=before + 1)
    assert default_process_pool().size == before  # nothing changes until the app starts
    with TestClient(app) as client:
        assert client.get("/cpu").json() == {"total": 5, "size": before + 1, "alive": before + 1}
    default_process_pool().resize(before)
    assert default_process_pool().statistics().alive == 0  # stopped with the app
    with pytest.raises(ProcessPoolError, match="whole number of workers >= 1"):
        install(FastAPI(), processes=0)


def test_the_audit_shows_a_proxy_provider_as_the_boundary() -> None:
    app = FastAPI()

    async def count(catalog: Annotated[AsyncProxy[CatalogService], Depends(get_catalog)]) -> int:
        return 0

    app.add_api_route("/count", count)
    (route,) = check_app(app).routes
    assert route.endpoint is not None
    (provider,) = route.endpoint.children
    assert provider.note == "offload boundary: hands out AsyncProxy[CatalogService]"
    assert provider.layer is None
