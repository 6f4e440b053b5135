"""Thread offload with real threads: limiters, nesting, cancellation, contextvars, misuse."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pytest

from fastapi_boundary import (
    AsyncService,
    LayerDeclarationError,
    Limiter,
    LimiterError,
    OffloadError,
    SyncService,
    blocking,
    check_cancelled,
    limiter_statistics,
    run_blocking,
)
from fastapi_boundary._common.anyio_compat import HAS_CHECK_CANCELLED, run_sync_in_thread
from tests.helpers import ANYIO_BACKENDS, WAIT, wait_until

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def where(value: int, *, scale: int = 1) -> tuple[int, str, bool]:
    return value * scale, request_id.get(), threading.current_thread() is threading.main_thread()


async def test_run_blocking_passes_args_and_kwargs_to_a_worker_thread() -> None:
    request_id.set("r-1")
    value, seen_id, on_main = await run_blocking(where, 2, scale=3)
    assert value == 6
    assert seen_id == "r-1"  # contextvars are copied into the worker
    assert on_main is False


async def test_exceptions_keep_their_type() -> None:
    def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await run_blocking(fail)


async def test_run_blocking_refuses_async_callables_and_coroutines() -> None:
    async def fetch() -> int:
        return 1

    with pytest.raises(OffloadError) as caught:
        await run_blocking(fetch)  # type: ignore[unused-coroutine]  # mypy sees the mistake too
    message = str(caught.value)
    assert "fetch" in message and "tests/offload/test_threads.py:" in message
    assert "is an async def" in message and "Fix: `await fetch(...)` directly" in message
    coroutine = fetch()
    with pytest.raises(OffloadError, match="the result of calling a function"):
        await run_blocking(coroutine)  # type: ignore[arg-type]
    coroutine.close()
    with pytest.raises(OffloadError, match="needs a sync callable"):
        await run_blocking(42)  # type: ignore[arg-type]


async def test_a_limiter_caps_concurrency_and_reports_statistics() -> None:
    limiter = Limiter("test-cap", size=2)
    release = threading.Event()
    two_running = anyio.Event()
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            both = running == 2
        if both:
            anyio.from_thread.run_sync(two_running.set)
        release.wait(WAIT)
        with lock:
            running -= 1

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(limiter.run, work)
        try:
            # a token is borrowed before its thread starts: wait for the threads themselves
            with anyio.fail_after(WAIT):
                await two_running.wait()
            await wait_until(lambda: limiter.statistics().waiting == 3, "three waiting callers")
            stats = limiter.statistics()
            assert (stats.total, stats.borrowed, stats.waiting) == (2, 2, 3)
            assert any(s.name == "test-cap" for s in limiter_statistics())
        finally:
            release.set()
    assert peak == 2  # never more than two threads, though five calls were made


async def test_blocking_marks_without_wrapping_and_chooses_the_limiter() -> None:
    limiter = Limiter("test-marked", size=1)
    seen: list[int] = []

    def read(value: int) -> int:
        seen.append(anyio.from_thread.run_sync(limiter.statistics).borrowed)
        return value

    assert blocking(limiter=limiter)(read) is read
    assert await run_blocking(read, 7) == 7
    assert seen == [1]  # it ran under its own limiter

    @blocking(limiter="test-marked")
    def by_name() -> int:
        return anyio.from_thread.run_sync(limiter.statistics).borrowed

    assert await run_blocking(by_name) == 1


def test_blocking_misuse() -> None:
    with pytest.raises(OffloadError, match="@blocking marks sync functions.*is an async def"):

        @blocking
        async def fetch() -> None: ...

    with pytest.raises(OffloadError, match="is a class"):
        blocking(threading.Thread)


def test_limiter_declaration_errors() -> None:
    Limiter("test-once")
    with pytest.raises(LimiterError) as caught:
        Limiter("test-once")
    assert str(caught.value).count("tests/offload/test_threads.py:") == 2
    for size in (0, -1, 1.5, True, "4"):
        with pytest.raises(LimiterError, match="whole number of threads >= 1"):
            Limiter(f"test-size-{size!r}", size=size)  # type: ignore[arg-type]
    with pytest.raises(LimiterError, match="needs a non-empty name"):
        Limiter("")


async def test_unknown_limiter_name_is_an_error_naming_the_declared_ones() -> None:
    @blocking(limiter="no-such-limiter")
    def read() -> None: ...

    with pytest.raises(LimiterError, match="no limiter named 'no-such-limiter'.*default"):
        await run_blocking(read)


async def test_nested_offload_to_a_held_limiter_does_not_deadlock() -> None:
    limiter = Limiter("test-nested", size=1)

    def inner() -> str:
        return "inner"

    async def offload_inner() -> str:
        return await limiter.run(inner)

    def outer() -> str:
        # holds the only token, then goes back to the loop and offloads again
        return anyio.from_thread.run(offload_inner)

    with anyio.fail_after(10):
        assert await limiter.run(outer) == "inner"


async def test_the_same_nesting_with_plain_anyio_deadlocks() -> None:
    """Negative control: the hang the library prevents (bounded by a timeout)."""
    capacity = anyio.CapacityLimiter(1)

    def inner() -> str:
        return "inner"

    async def offload_inner() -> str:
        return await anyio.to_thread.run_sync(inner, limiter=capacity)

    def outer() -> str:
        return anyio.from_thread.run(offload_inner)

    with pytest.raises(TimeoutError), anyio.fail_after(0.5):
        await run_sync_in_thread(outer, limiter=capacity, abandon_on_cancel=True)


async def test_abandon_on_cancel_lets_the_caller_go() -> None:
    limiter = Limiter("test-abandon", size=1, abandon_on_cancel=True)
    release = threading.Event()
    finished = threading.Event()
    started = anyio.Event()

    def stuck() -> None:
        anyio.from_thread.run_sync(started.set)
        release.wait(WAIT)
        finished.set()

    async with anyio.create_task_group() as group:
        group.start_soon(limiter.run, stuck)
        try:
            with anyio.fail_after(WAIT):
                await started.wait()  # anyio drops a call cancelled before its thread starts
        except BaseException:
            release.set()
            raise
        group.cancel_scope.cancel()
    # the caller has left while its thread still runs: it waits for the release below (a
    # caller that waited for the thread would have returned only after WAIT, finished)
    left_first = not finished.is_set()
    release.set()
    assert left_first
    assert finished.wait(WAIT)


async def test_without_abandon_the_caller_waits_for_the_thread() -> None:
    limiter = Limiter("test-wait", size=1)
    release = threading.Event()
    finished = threading.Event()
    started = anyio.Event()
    returned: list[bool] = []  # whether the thread had finished when the caller returned

    def slow() -> None:
        anyio.from_thread.run_sync(started.set)
        release.wait(WAIT)
        finished.set()

    async def caller(scope: anyio.CancelScope) -> None:
        with scope:
            await limiter.run(slow)
        returned.append(finished.is_set())

    scope = anyio.CancelScope()
    async with anyio.create_task_group() as group:
        group.start_soon(caller, scope)
        try:
            with anyio.fail_after(WAIT):
                await started.wait()
            scope.cancel()
            for _ in range(10):  # ample time for a caller that does not wait to return
                await anyio.lowlevel.checkpoint()
            waited = returned == []
        finally:
            release.set()
    assert waited  # the cancelled caller was still waiting for its thread
    assert returned == [True]  # and returned once the thread had finished


@pytest.mark.skipif(
    not HAS_CHECK_CANCELLED, reason="needs anyio >= 4.1: from_thread.check_cancelled"
)
async def test_check_cancelled_stops_long_work_cooperatively() -> None:
    steps = 0
    started = anyio.Event()
    limit = 30_000  # at least 30 s of steps: a bound for the test, reached only by a hang

    def long_loop() -> None:
        nonlocal steps
        for _ in range(limit):
            check_cancelled()
            steps += 1
            if steps == 1:
                anyio.from_thread.run_sync(started.set)
            threading.Event().wait(0.001)

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as group:
            group.start_soon(run_blocking, long_loop)
            await started.wait()
            group.cancel_scope.cancel()
    assert 0 < steps < limit
    check_cancelled()  # outside a worker thread: a no-op


async def test_contextvars_are_copied_back_only_on_request() -> None:
    def set_id() -> None:
        request_id.set("from-worker")

    request_id.set("caller")
    await run_blocking(set_id)
    assert request_id.get() == "caller"
    copying = Limiter("test-copy-back", copy_context_back=True)
    await copying.run(set_id)
    assert request_id.get() == "from-worker"


class Reports(SyncService, limiter="test-layer"):
    def borrowed(self) -> int:
        return anyio.from_thread.run_sync(LAYER_LIMITER.statistics).borrowed


LAYER_LIMITER = Limiter("test-layer", size=3)


async def test_a_layer_limiter_is_used_for_its_methods() -> None:
    assert await run_blocking(Reports().borrowed) == 1


def test_limiter_on_an_async_layer_is_refused() -> None:
    with pytest.raises(LayerDeclarationError, match="limiter= is for sync layers"):

        class Fetcher(AsyncService, limiter="default"):
            async def get(self) -> None: ...


def test_limiter_argument_type_is_checked() -> None:
    with pytest.raises(LayerDeclarationError, match="takes a Limiter or a limiter name"):

        class Odd(SyncService, limiter=3):  # type: ignore[arg-type]
            pass


async def test_size_changes_apply_to_the_running_loop() -> None:
    limiter = Limiter("test-resize", size=1)
    assert limiter.statistics().total == 1
    limiter.size = 4
    assert limiter.statistics().total == 4
    with pytest.raises(LimiterError):
        limiter.size = 0


def test_default_limiter_size_without_a_loop_is_the_configured_one() -> None:
    from fastapi_boundary._offload.threads import DEFAULT_LIMITER

    assert DEFAULT_LIMITER.size == 40
    assert repr(DEFAULT_LIMITER) == "Limiter('default', size=40)"


def _unused(*args: Any) -> None:
    """Keeps mypy's view of module-level helpers honest."""


def test_a_limiter_sized_from_a_sqlalchemy_pool(caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_engine("sqlite:///unused.db", pool_size=3, max_overflow=2)
    assert Limiter("test-pool-sized", pool=engine).size == 5
    async_engine = create_async_engine("sqlite+aiosqlite:///unused.db", pool_size=2)
    assert Limiter("test-pool-async", pool=async_engine).size == 12  # default overflow 10
    with caplog.at_level("WARNING", logger="fastapi_boundary"):
        Limiter("test-pool-large", size=9, pool=engine)
    assert "allows 9 threads but its pool holds 5 connections" in caplog.text
    with pytest.raises(LimiterError, match="SingletonThreadPool has none"):
        Limiter("test-pool-none", pool=create_engine("sqlite://"))
