"""The monitor's profile in process: written when the app stops, every original put back."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from fastapi_boundary import (
    Limiter,
    blocking,
    install,
    offload_dependency,
    run_blocking,
    run_cpu,
    to_async,
)
from fastapi_boundary._common import hooks
from fastapi_boundary._runtime.monitor import MonitorConfig
from fastapi_boundary._runtime.profile import Profiler
from tests.samples.process_targets import spin


def test_the_profile_is_written_at_shutdown_and_the_routes_restored(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/wait/{item_id}")
    async def wait(item_id: int) -> int:
        await anyio.sleep(0)
        return item_id

    @app.get("/sync")
    def sync() -> str:
        return "ok"

    router = APIRouter(prefix="/included")  # FastAPI 0.165 serves it through a context

    @router.get("/{item_id}")
    def included(item_id: int) -> int:
        return item_id

    app.include_router(router)

    path = tmp_path / "profile.json"
    config = MonitorConfig(profile=path, profile_sample_rate=1.0, opentelemetry=False)
    install(app, monitor=config, check="off")
    routes: dict[str, Any] = {
        route.path: route for route in app.routes if isinstance(route, APIRoute)
    }
    before = {path_: (r.app, r.dependant.call) for path_, r in routes.items()}
    with TestClient(app) as client:
        assert routes["/sync"].app is not before["/sync"][0]
        assert client.get("/wait/123456", params={"token": "secret"}).json() == 123456
        assert client.get("/sync").json() == "ok"
        assert client.get("/included/7").json() == 7
    after = {path_: (r.app, r.dependant.call) for path_, r in routes.items()}
    assert after == before
    text = path.read_text()
    document = json.loads(text)
    assert (document["format"], document["version"]) == ("fastapi-boundary-profile", 2)
    assert set(document["routes"]) == {
        "GET /wait/{item_id}",
        "GET /sync",
        "GET /included/{item_id}",
    }
    assert document["routes"]["GET /sync"]["requests"] == 1
    assert document["threads"]["peak_sync"] == 1
    assert "123456" not in text and "secret" not in text


def _blocking_app() -> FastAPI:
    """Routes that await a thread offload three ways, and one that awaits the loop's timer."""
    app = FastAPI()
    db = Limiter("profile_db", size=2)

    class Repository:
        def fetch(self) -> str:
            time.sleep(0.1)  # a blocking driver's query
            return "row"

    repository = to_async(Repository(), limiter=db)

    @blocking(limiter=db)
    def marked_query() -> str:
        time.sleep(0.1)
        return "row"

    @app.get("/blocking")
    async def through_run_blocking() -> str:
        await run_blocking(time.sleep, 0.1)
        return "ok"

    @app.get("/marked")
    async def through_its_limiter() -> str:
        return await run_blocking(marked_query)  # run_blocking, then Limiter.run: counted once

    @app.get("/proxy")
    async def through_a_proxy() -> str:
        return await repository.fetch()

    def session() -> str:
        time.sleep(0.1)  # a pool checkout that blocks
        return "session"

    checked_out = Depends(offload_dependency(session, limiter=db))

    @app.get("/dependency")
    async def through_a_dependency(got: str = checked_out) -> str:
        return got

    @app.get("/wait")
    async def wait() -> str:
        await anyio.sleep(0.1)
        return "ok"

    return app


def test_a_sampled_request_records_its_offloads_apart_from_awaiting() -> None:
    app = _blocking_app()
    profiler = Profiler(1.0)
    profiler.start(app)
    try:
        with TestClient(app) as client:
            for _ in range(2):
                for path in ("/blocking", "/marked", "/proxy", "/dependency", "/wait"):
                    assert client.get(path).status_code == 200
    finally:
        profiler.stop()
    routes = profiler.snapshot().routes
    for label in ("GET /blocking", "GET /marked", "GET /proxy", "GET /dependency"):
        times = routes[label]
        assert times.requests == 2
        assert times.offload_thread >= 0.2 * 0.9  # two requests, each slept 0.1 s in a thread
        assert times.offload_thread <= times.wall  # counted once, not per layer it crossed
        assert times.offload_thread > times.awaiting
        assert times.offload_process == 0.0
    waited = routes["GET /wait"]
    assert (waited.offload_thread, waited.offload_process) == (0.0, 0.0)
    assert waited.awaiting >= 0.2 * 0.9


def test_an_offload_outside_a_sampled_request_records_nothing() -> None:
    app = _blocking_app()
    seen: list[object] = []

    @app.get("/observer")
    async def observer() -> None:
        seen.append(hooks.offload_observer.get())
        await run_blocking(time.sleep, 0)

    draws = iter([0.0, 1.0, 1.0])  # the first request is sampled, the next two are not
    profiler = Profiler(0.5, draw=lambda: next(draws))
    profiler.start(app)
    try:
        with TestClient(app) as client:
            assert client.get("/observer").status_code == 200
            assert client.get("/observer").status_code == 200
            assert client.get("/blocking").status_code == 200
        assert anyio.run(_offload_outside_requests) is None
    finally:
        profiler.stop()
    assert seen[0] is not None and seen[1] is None
    routes = profiler.snapshot().routes
    assert set(routes) == {"GET /observer"}
    assert routes["GET /observer"].requests == 1


async def _offload_outside_requests() -> object:
    await run_blocking(time.sleep, 0)
    return hooks.offload_observer.get()


def test_what_a_process_offload_reports_goes_to_its_own_share() -> None:
    """The observer's contract for process offloads, and a task the request leaves behind."""
    app = FastAPI()
    left: list[asyncio.Task[None]] = []

    @app.get("/process")
    async def process() -> str:
        await hooks.observed_offload("process", anyio.sleep(0.05))
        left.append(asyncio.get_running_loop().create_task(_offload_after_a_while()))
        return "ok"

    profiler = Profiler(1.0)
    profiler.start(app)
    try:
        with TestClient(app) as client:
            assert client.get("/process").json() == "ok"
            portal = client.portal
            assert portal is not None
            portal.call(_all_done, left)
    finally:
        profiler.stop()
    times = profiler.snapshot().routes["GET /process"]
    assert times.offload_process >= 0.05 * 0.9 and times.offload_thread == 0.0
    assert times.offload_process <= times.wall  # the offload after the response is not counted


def test_run_cpu_in_a_profiled_request_is_a_process_offload() -> None:
    """``run_cpu`` (a real worker process) is timed into ``offload_process``, not ``awaiting``."""
    app = FastAPI()

    @app.get("/cpu")
    async def cpu() -> int:
        return await run_cpu(spin, 50.0)

    profiler = Profiler(1.0)
    profiler.start(app)
    try:
        with TestClient(app) as client:
            assert isinstance(client.get("/cpu").json(), int)
    finally:
        profiler.stop()
    times = profiler.snapshot().routes["GET /cpu"]
    assert times.offload_process >= 0.05 * 0.9 and times.offload_thread == 0.0
    assert times.offload_process <= times.wall


async def _offload_after_a_while() -> None:
    await anyio.sleep(0.05)
    await run_blocking(time.sleep, 0.1)


async def _all_done(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks)
