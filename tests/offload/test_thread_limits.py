"""What a thread offload guarantees at its limits: cancel, abandon, nesting, sizes, refusals.

Each test backs one claim of docs/offloading.md ("Guarantees").  Threads wait at
`threading.Event`s the test opens; nothing sleeps for a guessed time.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import anyio
import anyio.from_thread
import pytest
from fastapi import FastAPI

from fastapi_boundary import (
    Limiter,
    LimiterError,
    OffloadError,
    SyncService,
    blocking,
    install,
    run_blocking,
    to_async,
)
from tests.helpers import ANYIO_BACKENDS, WAIT, line_of, wait_until

pytestmark = pytest.mark.anyio

written: contextvars.ContextVar[str] = contextvars.ContextVar("written", default="-")


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Running:
    """Counts the calls running in threads right now, and the most seen at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.entered: list[int] = []

    def enter(self, call: int) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.entered.append(call)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


# --- abandon on cancel never exceeds the limiter ------------------------------------------


async def test_abandoned_calls_keep_their_tokens_until_their_threads_end() -> None:
    """10 calls cancelled while running, 2 at a time: never more than 2 threads at once."""
    limiter = Limiter("test-abandon-cap", size=2, abandon_on_cancel=True)
    running = Running()
    gates = [threading.Event() for _ in range(10)]
    left: list[int] = []
    scopes: dict[int, anyio.CancelScope] = {}

    def work(call: int) -> None:
        running.enter(call)
        try:
            gates[call].wait(WAIT)
        finally:
            running.leave()

    async def call(index: int) -> None:
        with anyio.CancelScope() as scope:
            scopes[index] = scope
            await limiter.run(work, index)
        left.append(index)

    try:
        async with anyio.create_task_group() as tasks:
            for round_ in range(5):
                first, second = 2 * round_, 2 * round_ + 1
                tasks.start_soon(call, first)
                tasks.start_soon(call, second)
                if round_:
                    # the previous round's threads still run: these two must wait for them
                    await wait_until(
                        lambda: limiter.statistics().waiting == 2, "two callers waiting"
                    )
                    assert running.now == 2 and len(running.entered) == 2 * round_
                    gates[first - 2].set()
                    gates[first - 1].set()

                def both_running(expected: int = 2 * round_ + 2) -> bool:
                    return len(running.entered) == expected

                await wait_until(both_running, "both calls of the round running")
                scopes[first].cancel()
                scopes[second].cancel()

                # the callers leave at once, though their threads run on
                def both_left(pair: tuple[int, int] = (first, second)) -> bool:
                    return pair[0] in left and pair[1] in left

                await wait_until(both_left, "the cancelled callers leave")
                assert running.now == 2
                assert limiter.statistics().borrowed == 2  # held for the running threads
    finally:
        for gate in gates:
            gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "every token back")
    assert running.peak == 2
    assert sorted(running.entered) == list(range(10))


async def test_an_abandoned_call_still_waiting_for_a_token_gives_nothing_back_twice() -> None:
    limiter = Limiter("test-abandon-queue", size=1, abandon_on_cancel=True)
    gate = threading.Event()
    entered = threading.Event()

    def hold() -> None:
        entered.set()
        gate.wait(WAIT)

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(limiter.run, hold)
            await wait_until(entered.is_set, "the first call running")
            with anyio.move_on_after(0):  # cancelled while waiting for the only token
                await limiter.run(hold)
            stats = limiter.statistics()
            assert (stats.borrowed, stats.waiting) == (1, 0)
            gate.set()
    finally:
        gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "the token back")
    # a call that is not cancelled gives its token back before its caller resumes
    assert await limiter.run(lambda: 7) == 7
    assert limiter.statistics().borrowed == 0


# --- nested limiters in opposite orders ---------------------------------------------------


async def test_nesting_two_limiters_in_opposite_orders_is_refused_naming_both_sites() -> None:
    first = Limiter("test-order-a", size=1)
    second = Limiter("test-order-b", size=1)

    def noop() -> str:
        return "done"

    async def then_b() -> str:
        return await second.run(noop)  # a, then b

    async def then_a() -> str:
        return await first.run(noop)  # b, then a: the opposite order

    assert await first.run(anyio.from_thread.run, then_b) == "done"
    with pytest.raises(LimiterError) as caught:
        await second.run(anyio.from_thread.run, then_a)
    message = str(caught.value)
    here = "tests/offload/test_thread_limits.py"
    assert "limiters 'test-order-b' and 'test-order-a' are nested in opposite orders" in message
    assert f"offloads to 'test-order-a' ({here}:{line_of(then_a, 'first.run')})" in message
    assert f"offloaded to 'test-order-b' ({here}:{line_of(then_b, 'second.run')})" in message
    assert "Fix: nest them in one order everywhere" in message
    # the order seen first still works
    assert await first.run(anyio.from_thread.run, then_b) == "done"


# --- copy_context_back and an event loop inside the worker ---------------------------------


async def test_copy_context_back_lets_the_worker_run_an_event_loop() -> None:
    limiter = Limiter("test-copy-loop", size=2, copy_context_back=True)

    async def answer() -> int:
        return 42

    def runs_loops() -> tuple[int, int]:
        written.set("from the worker")
        return anyio.run(answer), asyncio.run(answer())

    assert await limiter.run(runs_loops) == (42, 42)
    assert written.get() == "from the worker"  # still copied back


# --- generators are refused ----------------------------------------------------------------


def numbers() -> Iterator[int]:
    yield 1


class Reports(SyncService):
    def rows(self) -> Iterator[int]:
        yield 1


async def test_a_generator_function_is_refused_by_every_offload() -> None:
    here = f"tests/offload/test_thread_limits.py:{line_of(numbers, 'def numbers')}"
    with pytest.raises(OffloadError) as caught:
        await run_blocking(numbers)
    message = str(caught.value)
    assert f"run_blocking() was given {numbers.__qualname__} ({here})" in message
    assert "which is a generator function" in message
    assert "its blocking body would then run on the event loop" in message
    assert "Fix: offload a plain def that returns the whole result" in message
    with pytest.raises(OffloadError, match="which is a generator function"):
        await Limiter("test-generators", size=1).run(numbers)
    with pytest.raises(OffloadError, match="which is a generator function"):
        await run_blocking(Reports().rows)
    with pytest.raises(OffloadError, match=r"to_async\(\) was given Reports.rows"):
        await to_async(Reports()).rows()
    assert await run_blocking(lambda: list(numbers())) == [1]  # the fix works


def test_blocking_refuses_a_generator_function_when_it_decorates() -> None:
    with pytest.raises(OffloadError) as caught:
        blocking(numbers)
    assert str(caught.value).startswith("@blocking was given")
    assert "which is a generator function" in str(caught.value)


# --- sizes and options are checked where they are given ------------------------------------


def test_the_default_limiter_refuses_a_size_and_names_install_threads() -> None:
    with pytest.raises(LimiterError) as caught:
        Limiter("default", size=3)
    message = str(caught.value)
    assert "Limiter('default', size=3)" in message
    assert "anyio's default thread limiter" in message
    assert "Fix: install(app, threads=N)" in message


@pytest.mark.parametrize("size", [10_001, 10**9])
def test_sizes_have_an_upper_bound(size: int) -> None:
    with pytest.raises(LimiterError, match=r">= 1 and <= 10000; got"):
        Limiter(f"test-huge-{size}", size=size)
    with pytest.raises(LimiterError, match=r"install\(threads=...\) must be .* <= 10000"):
        install(_app(), threads=size)
    assert Limiter("test-largest", size=10_000).size == 10_000


def _app() -> FastAPI:
    return FastAPI()


@pytest.mark.parametrize("limiter", [42, 1.5, ["db"], b"db"])
def test_blocking_refuses_a_limiter_of_another_type_when_it_decorates(limiter: object) -> None:
    with pytest.raises(OffloadError) as caught:
        blocking(limiter=limiter)  # type: ignore[call-overload]
    message = str(caught.value)
    assert "@blocking(limiter=...) takes a Limiter, the name of a declared limiter" in message
    assert f"got {limiter!r} ({type(limiter).__name__})" in message


def test_blocking_refuses_options_that_are_not_booleans() -> None:
    with pytest.raises(OffloadError, match=r"abandon_on_cancel=...\) takes True or False"):
        blocking(abandon_on_cancel="yes")  # type: ignore[call-overload]
