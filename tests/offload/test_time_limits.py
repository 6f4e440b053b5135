"""A thread offload's time limit, and anyio's own time limits around an offload.

Each test backs one claim of docs/timeouts.md.  Threads wait at `threading.Event`s
the test opens only after the limit has passed, so a call past its limit is past it
however slow the machine; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Annotated, Any

import anyio
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    Limiter,
    LimiterError,
    OffloadTimeoutError,
    SyncService,
    blocking,
    install,
    offload_dependency,
    run_blocking,
    to_async,
)
from tests.helpers import ANYIO_BACKENDS, WAIT, line_of, wait_until

pytestmark = pytest.mark.anyio

HERE = "tests/offload/test_time_limits.py"
SHORT = 0.05  # seconds: a limit the gated calls below always run past
ANYIO_3 = int(version("anyio").split(".")[0]) < 4

written: contextvars.ContextVar[str] = contextvars.ContextVar("time_limits_written", default="-")


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Gated:
    """A blocking call that waits at a gate the test opens; counts the threads inside."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.ended = 0

    def __call__(self) -> str:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        self.entered.set()
        try:
            self.gate.wait(WAIT)
            return "done"
        finally:
            with self.lock:
                self.now -= 1
                self.ended += 1


async def time_out_running(call: Callable[[], Any]) -> OffloadTimeoutError:
    """Call until the limit passes while the thread runs the call; its error.

    A limit can pass before a loaded machine's worker thread picks the call up
    (the call is then withdrawn: it never runs); that try is simply made again.
    """
    with anyio.fail_after(WAIT):
        while True:
            with pytest.raises(OffloadTimeoutError) as caught:
                await call()
            if "It never started" not in str(caught.value):
                return caught.value


# --- the limit, its error, and the token the abandoned thread keeps -------------------------


async def test_a_call_past_its_limit_raises_naming_function_limit_and_declaration() -> None:
    """The error names the function, the limit and the limiter's declaration."""
    limiter = Limiter("t-limit-run", size=1, timeout=SHORT)
    work = Gated()
    try:
        error = await time_out_running(lambda: limiter.run(work))
        message = str(error)
        declared = f"{HERE}:{line_of(DECLARED, 'Limiter(')}"
        assert message.startswith(
            f"Gated instance ran past the 0.05 s time limit of limiter 't-limit-run' ({declared})."
        )
        assert "Fix: make the work faster or split it, or raise the limit where it is" in message
        assert "for one call only, wrap it in anyio.fail_after(...) instead." in message
        assert message.endswith(
            "A thread cannot be stopped: it runs on, and keeps its token of limiter "
            "'t-limit-run' until it ends."
        )
        assert isinstance(error, TimeoutError)
        assert (error.function, error.limit, error.declared_at) == (
            "Gated instance",
            SHORT,
            declared,
        )
        # the abandoned thread still runs and still holds the limiter's only token
        await wait_until(work.entered.is_set, "the thread to run the call")
        assert (work.now, limiter.statistics().borrowed) == (1, 1)

        # a call waiting for that token times out too, having taken none
        with pytest.raises(OffloadTimeoutError) as caught:
            await limiter.run(work)
        assert str(caught.value).endswith(
            "It never started: it waited for a token all along (limiter 't-limit-run' runs "
            "1 thread at a time, and it was busy)."
        )
        stats = limiter.statistics()
        assert (stats.borrowed, stats.waiting, work.now) == (1, 0, 1)
    finally:
        work.gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "the token back")
    limiter.timeout = None
    assert await limiter.run(lambda: 7) == 7  # the limiter works on


async def test_calls_past_their_limit_never_run_more_threads_than_the_limiter() -> None:
    """Eight calls past their limit through a limiter of 2: never a third thread."""
    limiter = Limiter("t-limit-cap", size=2, timeout=SHORT)
    work = Gated()
    errors: list[str] = []

    async def call() -> None:
        with pytest.raises(OffloadTimeoutError) as caught:
            await limiter.run(work)
        errors.append(str(caught.value))

    try:
        async with anyio.create_task_group() as tasks:
            for _ in range(8):
                tasks.start_soon(call)
        assert len(errors) == 8
        # the tokens still borrowed are those of the threads still running, and no more
        await wait_until(lambda: limiter.statistics().borrowed == work.now, "tokens = threads")
        assert work.peak <= 2
    finally:
        work.gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "every token back")
    assert work.peak <= 2


async def test_a_plain_cancellation_waits_for_the_thread_unless_the_limiter_abandons() -> None:
    """The limit abandons the thread; a cancellation follows ``abandon_on_cancel`` as before."""
    limiter = Limiter("t-limit-shield", size=1, timeout=WAIT)
    work = Gated()
    left = anyio.Event()
    after_the_call: list[str] = []

    async def caller(scope: anyio.CancelScope) -> None:
        with scope:
            after_the_call.append(await limiter.run(work))
            await anyio.sleep(0)  # the cancellation takes effect at the next checkpoint
            after_the_call.append("not reached")
        left.set()

    scope = anyio.CancelScope()
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(caller, scope)
            await wait_until(work.entered.is_set, "the thread to run the call")
            scope.cancel()
            await anyio.wait_all_tasks_blocked()
            assert not left.is_set()  # still waiting for its thread
            work.gate.set()
            await left.wait()
    finally:
        work.gate.set()
    assert after_the_call == ["done"]  # the thread's result, then the cancellation
    assert limiter.statistics().borrowed == 0

    abandoning = Limiter("t-limit-abandon", size=1, timeout=WAIT, abandon_on_cancel=True)
    work = Gated()
    try:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(abandoning.run, work)
                await wait_until(work.entered.is_set, "the thread to run the call")
                scope.cancel()
        assert work.now == 1 and abandoning.statistics().borrowed == 1  # left; token held
    finally:
        work.gate.set()
    await wait_until(lambda: abandoning.statistics().borrowed == 0, "the token back")


@pytest.mark.parametrize(("abandon", "limit"), [(False, None), (False, WAIT), (True, WAIT)])
async def test_a_call_cancelled_while_waiting_for_a_token_leaves_and_takes_none(
    abandon: bool, limit: float | None
) -> None:
    limiter = Limiter("t-limit-queued", size=1, timeout=limit, abandon_on_cancel=abandon)
    holder, queued = Gated(), Gated()
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(limiter.run, holder)
            await wait_until(holder.entered.is_set, "the first call running")
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as waiting:
                    waiting.start_soon(limiter.run, queued)
                    await wait_until(lambda: limiter.statistics().waiting == 1, "a waiter")
                    scope.cancel()  # the waiting caller leaves at once
            stats = limiter.statistics()
            assert (stats.borrowed, stats.waiting) == (1, 0)
            holder.gate.set()
    finally:
        holder.gate.set()
        queued.gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "the token back")
    assert not queued.entered.is_set()  # it never started


async def test_a_call_whose_limit_passes_before_its_thread_starts_never_runs() -> None:
    limiter = Limiter("t-limit-withdrawn", size=1, timeout=1e-9)  # passed when the call starts
    work = Gated()
    with pytest.raises(OffloadTimeoutError) as caught:
        await limiter.run(work)
    assert str(caught.value).endswith("It never started: its thread had not picked it up yet.")
    assert limiter.statistics().borrowed == 0
    limiter.timeout = None
    work.gate.set()
    assert await limiter.run(lambda: "runs") == "runs"
    assert not work.entered.is_set()  # the call that timed out never ran


async def test_a_call_that_waits_for_a_token_within_its_limit_runs() -> None:
    limiter = Limiter("t-limit-wait-ok", size=1, timeout=WAIT)
    holder, waiter = Gated(), Gated()
    results: list[str] = []

    async def call(work: Gated) -> None:
        results.append(await limiter.run(work))

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call, holder)
            await wait_until(holder.entered.is_set, "the first call running")
            tasks.start_soon(call, waiter)
            await wait_until(lambda: limiter.statistics().waiting == 1, "the second waiting")
            holder.gate.set()
            waiter.gate.set()
    finally:
        holder.gate.set()
        waiter.gate.set()
    assert results == ["done", "done"] and max(holder.peak, waiter.peak) == 1


async def test_options_changed_on_a_limiter_take_effect_on_its_next_call() -> None:
    limiter = Limiter("t-limit-options", size=1)
    limiter.abandon_on_cancel = limiter.copy_context_back = True
    assert (limiter.abandon_on_cancel, limiter.copy_context_back) == (True, True)

    def sets() -> None:
        written.set("copied")

    await limiter.run(sets)
    assert written.get() == "copied"
    limiter.abandon_on_cancel = limiter.copy_context_back = False
    written.set("-")
    await limiter.run(sets)
    assert written.get() == "-"


async def test_a_call_within_its_limit_returns_and_copies_its_context_back() -> None:
    limiter = Limiter("t-limit-ok", size=1, timeout=WAIT, copy_context_back=True)

    def sets(value: str, *, suffix: str) -> str:
        written.set(value + suffix)
        return "ok"

    assert await limiter.run(sets, "worker", suffix="!") == "ok"
    assert written.get() == "worker!"
    assert limiter.statistics().borrowed == 0


async def test_a_nested_call_times_out_on_its_reserved_token() -> None:
    limiter = Limiter("t-limit-nested", size=1, timeout=WAIT)
    work = Gated()

    async def inner() -> str:
        limiter.timeout = SHORT  # for the nested call, made while the outer one runs
        return await limiter.run(work)

    def outer() -> str:
        try:
            return anyio.from_thread.run(inner)
        except OffloadTimeoutError as error:
            return str(error)

    try:
        message = await limiter.run(outer)
    finally:
        work.gate.set()
    assert "ran past the 0.05 s time limit of limiter 't-limit-nested'" in message
    assert f"({HERE}:{line_of(inner, 'limiter.timeout = SHORT')})" in message
    assert message.endswith(("until it ends.", "picked it up yet."))


# --- anyio's own time limits around an offload ----------------------------------------------


async def test_fail_after_around_an_abandoning_limiter_keeps_the_cap() -> None:
    """Callers released by ``fail_after`` leave their threads' tokens held: 2 threads at most."""
    limiter = Limiter("t-fail-after", size=2, abandon_on_cancel=True)
    works = [Gated() for _ in range(4)]
    timed_out: list[int] = []
    scopes: dict[int, anyio.CancelScope] = {}

    async def call(index: int) -> None:
        try:
            with anyio.fail_after(WAIT) as scope:
                scopes[index] = scope
                await limiter.run(works[index])
        except TimeoutError:
            timed_out.append(index)

    def running() -> int:
        return sum(work.now for work in works)

    try:
        async with anyio.create_task_group() as tasks:
            for index in (0, 1):
                tasks.start_soon(call, index)
            await wait_until(lambda: works[0].entered.is_set() and works[1].entered.is_set())
            for index in (0, 1):  # their time is up while their threads run
                scopes[index].deadline = anyio.current_time()
            await wait_until(lambda: sorted(timed_out) == [0, 1], "both callers released")
            assert running() == 2 and limiter.statistics().borrowed == 2

            for index in (2, 3):  # two more: they wait for the abandoned threads' tokens
                tasks.start_soon(call, index)
            await wait_until(lambda: limiter.statistics().waiting == 2, "two callers waiting")
            assert running() == 2
            works[0].gate.set()
            works[1].gate.set()
            await wait_until(lambda: works[2].entered.is_set() and works[3].entered.is_set())
            assert running() == 2
            for index in (2, 3):
                scopes[index].deadline = anyio.current_time()
    finally:
        for work in works:
            work.gate.set()
    await wait_until(lambda: limiter.statistics().borrowed == 0, "every token back")
    assert sorted(timed_out) == [0, 1, 2, 3]
    assert max(work.peak for work in works) == 1 and running() == 0


@pytest.mark.parametrize("awaits_after", [False, True])
async def test_fail_after_around_a_limiter_that_does_not_abandon_waits_for_the_thread(
    awaits_after: bool,
) -> None:
    """The caller waits for its thread and gets its result, late; on anyio 4 ``TimeoutError``
    comes only if the block awaits something after the call (at that checkpoint)."""
    limiter = Limiter("t-fail-after-wait", size=1)
    work = Gated()
    result: list[str] = []
    raised: list[BaseException] = []

    async def call(scope_box: list[anyio.CancelScope]) -> None:
        try:
            with anyio.fail_after(WAIT) as scope:
                scope_box.append(scope)
                result.append(await limiter.run(work))
                if awaits_after:
                    await anyio.sleep(0)
                    result.append("not reached")
        except TimeoutError as error:
            raised.append(error)

    box: list[anyio.CancelScope] = []
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call, box)
            await wait_until(work.entered.is_set, "the thread to run the call")
            box[0].deadline = anyio.current_time()
            await anyio.wait_all_tasks_blocked()
            assert not result  # still waiting for its thread, past its deadline
            assert limiter.statistics().borrowed == 1 and work.now == 1
            work.gate.set()
    finally:
        work.gate.set()
    assert result == ["done"] and work.ended == 1
    # anyio 3's fail_after raises at the end of the block whenever its deadline has passed
    assert len(raised) == (1 if awaits_after or ANYIO_3 else 0)
    assert limiter.statistics().borrowed == 0


# --- every way to a limiter gets its limit --------------------------------------------------

SLOW = Limiter("t-limit-routes", size=2, timeout=SHORT)
gate = threading.Event()


@blocking(limiter=SLOW)
def marked() -> str:
    gate.wait(WAIT)
    return "marked"


class Reports(SyncService, limiter=SLOW):
    def build(self) -> str:
        gate.wait(WAIT)
        return "built"


torn_down: list[str] = []
teardown_done = threading.Event()


def session() -> Iterator[str]:
    gate.wait(WAIT)
    try:
        yield "session"
    finally:
        torn_down.append("session")
        time.sleep(3 * SHORT)  # a teardown longer than the limit: teardowns are never limited
        teardown_done.set()


async def test_blocking_functions_proxies_and_layers_get_the_limiters_limit() -> None:
    gate.clear()
    try:
        with pytest.raises(OffloadTimeoutError, match=r"^marked ran past the 0.05 s time limit"):
            await run_blocking(marked)
        with pytest.raises(OffloadTimeoutError, match=r"^Reports.build ran past the 0.05 s"):
            await to_async(Reports()).build()
        with pytest.raises(OffloadTimeoutError, match=r"^Reports.build ran past the 0.05 s"):
            await run_blocking(Reports().build)
    finally:
        gate.set()
    await wait_until(lambda: SLOW.statistics().borrowed == 0, "every token back")


def test_an_offloaded_dependency_gets_the_limiters_limit_and_its_teardown_none() -> None:
    """Its setup is limited (and torn down when abandoned), its teardown never is.

    A setup can miss a 0.05 s limit before a loaded machine starts its thread; the
    requests are made again until each case happens (bounded by `WAIT`).
    """
    gate.clear()
    app = FastAPI()

    @app.get("/")
    async def endpoint(
        value: Annotated[str, Depends(offload_dependency(session, limiter=SLOW))],
    ) -> str:
        return value

    torn_down.clear()
    teardown_done.clear()
    deadline = time.monotonic() + WAIT
    try:
        with TestClient(app) as client:
            while True:  # until the limit passes while the setup runs (at the closed gate)
                assert time.monotonic() < deadline, "no setup started within its limit"
                with pytest.raises(OffloadTimeoutError) as caught:
                    client.get("/")
                message = str(caught.value)
                assert message.startswith("session ran past the 0.05 s time limit")
                if "It never started" not in message:
                    break
        assert torn_down == []
    finally:
        gate.set()
    # the abandoned setup ends at last, and is torn down in its own thread
    assert teardown_done.wait(WAIT)
    assert torn_down == ["session"]
    with TestClient(app) as client:  # a setup within the limit, then a teardown past it
        while True:
            assert time.monotonic() < deadline, "no setup ran within its limit"
            try:
                response = client.get("/")
            except OffloadTimeoutError:
                continue  # this setup's thread started late: never ran, or torn down
            break
    assert response.json() == "session"
    assert torn_down[-1] == "session" and len(torn_down) >= 2


def test_install_thread_timeout_limits_the_default_limiter_naming_the_install_line() -> None:
    gate.clear()
    app = FastAPI()

    def unmarked() -> str:
        gate.wait(WAIT)
        return "late"

    @app.get("/")
    async def endpoint() -> str:
        return await run_blocking(unmarked)

    install(app, check="off", thread_timeout=SHORT)
    line = line_of(
        test_install_thread_timeout_limits_the_default_limiter_naming_the_install_line,
        "install(app",
    )
    try:
        with TestClient(app) as client, pytest.raises(OffloadTimeoutError) as caught:
            client.get("/")
    finally:
        gate.set()
    message = str(caught.value)
    assert message.startswith(
        f"unmarked ran past the 0.05 s time limit of limiter 'default' ({HERE}:{line})."
    )


# --- refused where given --------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), 8 * 24 * 3600, True, "5"])
def test_a_time_limit_must_be_a_positive_number_of_seconds(value: object) -> None:
    with pytest.raises(LimiterError) as caught:
        Limiter("t-limit-bad", timeout=value)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "Limiter('t-limit-bad') timeout must be a number of seconds > 0 and <= 604800" in message
    assert f"got {value!r}" in message
    assert "Fix: the longest a caller may wait for the call, e.g. timeout=5.0." in message
    with pytest.raises(LimiterError, match=r"install\(thread_timeout=...\) must be a number"):
        install(FastAPI(), thread_timeout=value)  # type: ignore[arg-type]
    limiter = Limiter("t-limit-set", size=1)
    with pytest.raises(LimiterError, match=r"Limiter\('t-limit-set'\).timeout must be"):
        limiter.timeout = value  # type: ignore[assignment]
    assert limiter.timeout is None


def test_the_default_limiter_takes_its_limit_from_install_only() -> None:
    with pytest.raises(LimiterError) as caught:
        Limiter("default", timeout=5)
    message = str(caught.value)
    assert (
        "Limiter('default', timeout=5): the default limiter is declared by the library" in message
    )
    assert "Fix: install(app, thread_timeout=5)" in message


def test_a_limiter_without_a_limit_has_none() -> None:
    assert Limiter("t-limit-none", size=3).timeout is None
    assert (
        repr(Limiter("t-limit-some", size=3, timeout=2))
        == "Limiter('t-limit-some', size=3, timeout=2)"
    )


DECLARED = test_a_call_past_its_limit_raises_naming_function_limit_and_declaration
