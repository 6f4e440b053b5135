"""The supported range (FastAPI 0.100+, anyio 3.7.1+, Pydantic 2.0.2+): what differs works.

CI runs this module on the lowest set, a middle one and the newest (``.ci/``).
Two bugs found on real apps pinned to older releases:

- ``run_blocking`` passed ``abandon_on_cancel=`` to anyio, which anyio < 4.1
  spells ``cancellable=`` (a ``TypeError`` on every offload);
- timing async dependencies (the guard's ``endpoints=True``, the monitor)
  replaced ``dependant.call`` with an object FastAPI < 0.123 ran in the thread
  pool: every async dependency's value became an un-awaited coroutine (500s,
  and an auth dependency that raises no longer ran: a bypass).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import anyio
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from fastapi_boundary import Limiter, blocking, check_cancelled, install, run_blocking
from fastapi_boundary._common import anyio_compat
from fastapi_boundary._common.errors import OffloadError
from fastapi_boundary._common.fastapi_compat import fastapi_awaits
from fastapi_boundary._runtime import step_timing
from fastapi_boundary._runtime.guard import guarded
from fastapi_boundary._runtime.monitor import MonitorConfig

compat_limiter = Limiter("compat-abandon", size=2, abandon_on_cancel=True)

# --- anyio ----------------------------------------------------------------------------------


def _thread_name(suffix: str = "") -> str:
    return threading.current_thread().name + suffix


def test_run_blocking_runs_in_a_worker_thread_on_the_installed_anyio() -> None:
    async def main() -> tuple[str, str]:
        return await run_blocking(_thread_name, "!"), await compat_limiter.run(_thread_name)

    plain, limited = anyio.run(main)
    assert plain != threading.current_thread().name + "!" and plain.endswith("!")
    assert limited != threading.current_thread().name


@blocking(abandon_on_cancel=True)
def _abandonable(release: threading.Event) -> None:
    release.wait(5)


def test_abandon_on_cancel_lets_the_caller_go_on_the_installed_anyio() -> None:
    """anyio < 4.1 spells it ``cancellable=``: the flag reaches anyio either way."""
    release = threading.Event()

    async def main() -> bool:
        with anyio.move_on_after(0.05) as scope:
            await run_blocking(_abandonable, release)
        return scope.cancel_called

    try:
        assert anyio.run(main)  # returned while the thread still waits: it was abandoned
    finally:
        release.set()


def test_run_sync_in_thread_passes_the_flag_under_the_installed_name() -> None:
    async def main() -> str:
        return await anyio_compat.run_sync_in_thread(
            _thread_name, "?", abandon_on_cancel=True, limiter=anyio.CapacityLimiter(1)
        )

    assert anyio.run(main).endswith("?")
    assert anyio_compat.HAS_ABANDON_ON_CANCEL is (anyio_compat.ANYIO_VERSION >= (4, 1))


@pytest.mark.skipif(
    anyio_compat.HAS_CHECK_CANCELLED, reason="anyio >= 4.1 has from_thread.check_cancelled"
)
def test_check_cancelled_names_the_anyio_it_needs() -> None:
    def work() -> None:
        check_cancelled()

    async def main() -> None:
        await run_blocking(work)

    with pytest.raises(OffloadError, match=r"needs anyio >= 4\.1 \(installed: anyio 3|4\.0"):
        anyio.run(main)


@pytest.mark.skipif(
    not anyio_compat.HAS_CHECK_CANCELLED, reason="needs anyio >= 4.1: from_thread.check_cancelled"
)
def test_check_cancelled_is_a_no_op_outside_a_worker_thread() -> None:
    check_cancelled()


# --- FastAPI: timing must never change what FastAPI resolves ------------------------------


async def settings() -> dict[str, str]:
    return {"region": "eu"}


async def current_user(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer good":
        raise HTTPException(status_code=401, detail="not authenticated")
    return "alice"


class Pagination:
    """A callable object with an ``async def __call__``: FastAPI awaits it too."""

    async def __call__(self, limit: int = 10) -> int:
        return limit


def sync_total() -> int:
    return 3  # a plain def: FastAPI runs it in the thread pool, timing leaves it alone


def real_app() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(
        user: Annotated[str, Depends(current_user)],
        config: Annotated[dict[str, str], Depends(settings)],
        limit: Annotated[int, Depends(Pagination())],
        total: Annotated[int, Depends(sync_total)],
    ) -> dict[str, Any]:
        return {"user": user, "region": config["region"], "limit": limit, "total": total}

    return app


def _check_requests(app: FastAPI) -> None:
    client = TestClient(app)
    answer = client.get("/me", headers={"Authorization": "Bearer good"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"user": "alice", "region": "eu", "limit": 10, "total": 3}
    assert client.get("/me").status_code == 401  # the auth dependency ran, and refused
    assert client.get("/me", headers={"Authorization": "Bearer bad"}).status_code == 401
    app.dependency_overrides[current_user] = lambda: "override"
    try:
        assert client.get("/me").json()["user"] == "override"
    finally:
        app.dependency_overrides.clear()


def _timed_dependants(app: FastAPI) -> list[Any]:
    route: Any = next(r for r in app.routes if getattr(r, "path", "") == "/me")
    return [d for d in route.dependant.dependencies if getattr(d.call, "__wrapped__", None)]


def test_the_app_without_timing() -> None:
    _check_requests(real_app())


def test_guard_endpoint_timing_keeps_async_dependencies_awaited() -> None:
    app = real_app()
    with guarded("warn", threshold=0.5, endpoints=True):
        from fastapi_boundary._runtime import step_timing as timing

        timing.instrument_app(app)
        timed = _timed_dependants(app)
        assert {d.call.__wrapped__ for d in timed} >= {current_user, settings}
        for dependant in timed:  # classified exactly as the original
            assert fastapi_awaits(dependant.call, endpoint=False)
            assert fastapi_awaits(dependant.call.__wrapped__, endpoint=False)
        _check_requests(app)
    assert not step_timing.active


@pytest.mark.parametrize("sample_rate", [1.0, 0.5])
def test_monitor_keeps_async_dependencies_awaited(sample_rate: float) -> None:
    app = real_app()
    install(
        app,
        monitor=MonitorConfig(
            sample_rate=sample_rate, step_threshold=0.5, lag_threshold=1.0, opentelemetry=False
        ),
        check="off",
    )
    with TestClient(app):  # the lifespan starts the monitor (and stops it on exit)
        assert step_timing.active
        assert _timed_dependants(app)
        _check_requests(app)
    assert not step_timing.active


def test_fastapi_awaits_what_fastapi_awaits() -> None:
    async def agen() -> Any:
        yield 1

    def gen() -> Any:
        yield 1

    assert fastapi_awaits(settings, endpoint=False)
    assert fastapi_awaits(settings, endpoint=True)
    assert fastapi_awaits(Pagination(), endpoint=False)
    assert not fastapi_awaits(sync_total, endpoint=False)
    assert not fastapi_awaits(agen, endpoint=False)
    assert not fastapi_awaits(gen, endpoint=False)
