"""Process offload: @cpu_bound, run_cpu and the pool, with real worker processes."""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import pytest
from fastapi import FastAPI
from typing_extensions import assert_type

from fastapi_boundary import BoundaryError, OffloadError, install
from fastapi_boundary._common.errors import (
    ProcessPicklingError,
    ProcessPoolError,
    ProcessTargetError,
    RemoteTraceback,
    WorkerCrashedError,
)
from fastapi_boundary._offload.process_pool import (
    ProcessPool,
    ProcessPoolStatistics,
    default_process_pool,
    run_cpu,
)
from fastapi_boundary._offload.process_targets import CPU_BOUND_ATTR, cpu_bound, is_cpu_bound
from tests.helpers import ANYIO_BACKENDS, Gate, line_of, run_python, wait_until
from tests.samples import process_marked as marked
from tests.samples import process_targets as targets

HERE = os.path.relpath(__file__)
TARGETS = os.path.relpath(targets.__file__)


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test here runs on both backends: the pool only uses anyio primitives."""
    return str(request.param)


@pytest.fixture
async def pool() -> AsyncIterator[ProcessPool]:
    """Not started here: anyio kills the workers a fixture starts when its setup task ends."""
    pool = ProcessPool(2)
    yield pool
    await pool.shutdown()


def children() -> set[int]:
    """Pids of this process's live (not zombie) children, from /proc."""
    found = set()
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            found.add(int(entry))
    return found


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    """Calls to ``targets.wait_at_gate`` wait in their worker until the test opens it."""
    gate = Gate(tmp_path)
    try:
        yield gate
    finally:
        gate.open()


# --- @cpu_bound ------------------------------------------------------------------------


def test_cpu_bound_returns_the_function_itself_and_runs_inline() -> None:
    assert marked.scaled_sum.__name__ == "scaled_sum"
    assert getattr(marked.scaled_sum, CPU_BOUND_ATTR) is True
    assert is_cpu_bound(marked.scaled_sum)
    assert is_cpu_bound(marked.Holder.static_double)
    assert not is_cpu_bound(targets.echo)
    assert marked.scaled_sum(1, 2, scale=3) == (os.getpid(), 9)  # inline, same process
    assert inspect.isfunction(marked.scaled_sum)  # a plain function, no wrapper
    assert not hasattr(marked.scaled_sum, "__wrapped__")


def test_types_are_preserved() -> None:
    """``cpu_bound`` keeps the signature; ``run_cpu`` checks arguments against it (mypy)."""
    assert_type(marked.scaled_sum(1, 2, scale=3), tuple[int, int])
    if TYPE_CHECKING:

        async def calls(pool: ProcessPool) -> None:
            assert_type(await run_cpu(marked.scaled_sum, 1, 2, scale=3), tuple[int, int])
            assert_type(await pool.run(targets.echo, b"x"), bytes)
            await run_cpu(marked.scaled_sum, 1, "2")  # type: ignore[arg-type]
            await run_cpu(marked.scaled_sum, 1, 2, scal=3)  # type: ignore[call-arg]
            await pool.run(targets.echo)  # type: ignore[call-arg]


def _rejected(obj: Any) -> str:
    with pytest.raises(ProcessTargetError) as caught:
        cpu_bound(obj)
    return str(caught.value)


def test_cpu_bound_rejects_a_lambda() -> None:
    square = lambda x: x * x  # noqa: E731
    message = _rejected(square)
    line = line_of(test_cpu_bound_rejects_a_lambda, "lambda x")
    assert message.startswith(f"@cpu_bound cannot mark <lambda> ({HERE}:{line})")
    assert "a lambda, which has no name a worker process can import" in message
    assert "Fix: define it with def at module level." in message


def test_cpu_bound_rejects_a_closure_at_decoration() -> None:
    factor = 3
    with pytest.raises(ProcessTargetError) as caught:

        @cpu_bound
        def scale(x: int) -> int:
            return x * factor

    line = line_of(test_cpu_bound_rejects_a_closure_at_decoration, "        @cpu_bound")
    message = str(caught.value)
    assert f"@cpu_bound cannot mark scale ({HERE}:{line})" in message
    assert "defined inside test_cpu_bound_rejects_a_closure_at_decoration()" in message
    assert "nested function or closure" in message
    assert "Fix: move it to module level and pass what it uses as arguments" in message


def test_cpu_bound_rejects_async_def_and_generators() -> None:
    async def fetch() -> int:
        return 1

    message = _rejected(fetch)
    line = line_of(test_cpu_bound_rejects_async_def_and_generators, "async def fetch")
    assert f"@cpu_bound cannot mark fetch ({HERE}:{line})" in message
    assert "an async def; CPU-bound work is sync" in message
    assert "Fix: make it a def" in message

    async def stream() -> AsyncIterator[int]:
        yield 1

    assert "an async generator; CPU-bound work is sync" in _rejected(stream)

    def chunks() -> Iterator[int]:
        yield 1

    assert "a generator function; the generator it returns cannot be sent back" in _rejected(chunks)


def test_cpu_bound_rejects_a_bound_method_and_a_classmethod() -> None:
    message = _rejected(targets.Holder().method)
    line = line_of(targets.Holder.method, "def method")
    assert f"@cpu_bound cannot mark Holder.method ({TARGETS}:{line})" in message
    assert "a method bound to a Holder instance, which would be pickled" in message
    assert "Fix: make it a module-level function (or a @staticmethod)" in message

    class WithClassmethod:
        @classmethod
        def build(cls) -> int:
            return 1

    assert "a classmethod, which needs its class" in _rejected(WithClassmethod.build)
    assert "a classmethod" in _rejected(WithClassmethod.__dict__["build"])


def test_cpu_bound_rejects_a_partial_and_a_callable_instance() -> None:
    message = _rejected(functools.partial(targets.scaled_sum, 1))
    assert f"scaled_sum ({TARGETS}:" in message
    assert "a functools.partial" in message
    assert "Fix: mark the function itself and pass the fixed arguments to run_cpu" in message

    message = _rejected(targets.Holder())
    assert f"Holder.__call__ ({TARGETS}:" in message or "Holder instance" in message
    assert "a callable Holder instance, whose state would be pickled" in message


def test_cpu_bound_rejects_functions_of_a_main_script() -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec("def crunch(x):\n    return x\n", namespace)
    message = _rejected(namespace["crunch"])
    assert "@cpu_bound cannot mark crunch" in message
    assert "defined in the __main__ script" in message
    assert "python -m package.module" in message


def test_process_target_errors_are_boundary_and_type_errors() -> None:
    assert issubclass(ProcessTargetError, OffloadError)
    assert issubclass(ProcessTargetError, TypeError)
    assert issubclass(ProcessPicklingError, TypeError)
    assert issubclass(WorkerCrashedError, BoundaryError)
    assert issubclass(WorkerCrashedError, RuntimeError)
    assert issubclass(WorkerCrashedError, ProcessPoolError)


@pytest.mark.slow
def test_main_module_run_with_dash_m_works_and_exit_stops_the_workers() -> None:
    result = run_python("-m", "tests.samples.process_main")  # a hang at exit fails it
    assert result.returncode == 0, result.stderr
    parent, worker = map(int, result.stdout.split())
    assert worker != parent
    assert not Path(f"/proc/{worker}").exists()  # stopped at interpreter exit


# --- run_cpu and ProcessPool.run --------------------------------------------------------


@pytest.mark.anyio
async def test_runs_in_a_worker_with_args_and_kwargs(pool: ProcessPool) -> None:
    worker, value = await pool.run(marked.scaled_sum, 2, 3, scale=10)
    assert worker != os.getpid()
    assert worker in children()
    assert value == 50
    assert await pool.run(marked.Holder.static_double, 21) == 42
    assert await pool.run(targets.scaled_sum, 2, 3, scale=10) == (worker, 50)  # unmarked
    assert await pool.run(pow, 2, 10) == 1024  # a builtin of a module


@pytest.mark.anyio
async def test_run_cpu_uses_the_default_pool() -> None:
    try:
        worker, value = await run_cpu(targets.scaled_sum, 1, 1)
        assert worker != os.getpid() and value == 2
        assert default_process_pool().statistics().alive >= 1
    finally:
        await default_process_pool().shutdown()
    assert default_process_pool().statistics().alive == 0


@pytest.mark.anyio
async def test_large_arguments_and_results_cross_in_pieces(pool: ProcessPool) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)  # larger than a pipe buffer
    assert await pool.run(targets.echo, payload) == payload


@pytest.mark.anyio
async def test_bad_targets_fail_at_call_time_before_anything_is_sent() -> None:
    pool = ProcessPool(1)
    with pytest.raises(ProcessTargetError, match=r"run_cpu\(\) cannot run <lambda> .*a lambda"):
        await pool.run(lambda: 1)
    with pytest.raises(ProcessTargetError, match="a method bound to a Holder instance"):
        await pool.run(targets.Holder().method)
    with pytest.raises(ProcessTargetError, match=r"a functools.partial"):
        await pool.run(functools.partial(targets.noop))
    coroutine: Any = _async_target()
    with pytest.raises(ProcessTargetError, match=r"not run_cpu\(fetch\(url\)\)"):
        await pool.run(coroutine)
    coroutine.close()
    assert pool.statistics().alive == 0  # nothing was started


async def _async_target() -> None:
    return None


@pytest.mark.anyio
async def test_replaced_function_is_refused(pool: ProcessPool) -> None:
    original = targets.replaceable
    try:
        targets.replaceable = lambda: None
        with pytest.raises(ProcessTargetError) as caught:
            await pool.run(original)
    finally:
        targets.replaceable = original
    message = str(caught.value)
    assert (
        "a worker imports it as tests.samples.process_targets.replaceable, which is <function"
        in message
    )
    assert "Fix: define it once with def at module level" in message


@pytest.mark.anyio
async def test_unpicklable_argument_is_named() -> None:
    pool = ProcessPool(1)
    with pytest.raises(ProcessPicklingError) as caught:
        await pool.run(targets.takes_lock, 1, lock=threading.Lock())
    message = str(caught.value)
    assert f"run_cpu(takes_lock) ({TARGETS}:" in message
    assert "cannot send its keyword argument 'lock' to a worker process" in message
    assert "a _thread.lock cannot be pickled" in message
    assert "Fix: pass plain data" in message

    with pytest.raises(ProcessPicklingError, match="its positional argument 'lock'"):
        await pool.run(targets.takes_lock, 1, threading.Lock())
    assert pool.statistics().alive == 0  # refused before a worker was started


@pytest.mark.anyio
async def test_unpicklable_result_is_reported_and_the_worker_keeps_serving(
    pool: ProcessPool,
) -> None:
    with pytest.raises(ProcessPicklingError) as caught:
        await pool.run(targets.returns_lock)
    message = str(caught.value)
    assert f"returns_lock ({TARGETS}:" in message
    assert "returned a _thread.lock" in message
    assert "cannot be pickled to send it back" in message
    assert await pool.run(targets.scaled_sum, 1, 2)
    assert pool.statistics().replaced == 0


@pytest.mark.anyio
async def test_worker_exception_keeps_its_type_and_the_worker_traceback(
    pool: ProcessPool,
) -> None:
    with pytest.raises(ValueError, match="bad n: 5") as caught:
        await pool.run(targets.raises_value_error, 5)
    line = line_of(targets.raises_value_error, "raise ValueError")
    if sys.version_info >= (3, 11):
        text = "\n".join(caught.value.__notes__)
    else:  # version dependent
        assert isinstance(caught.value.__cause__, RemoteTraceback)
        text = str(caught.value.__cause__)
    assert "Worker process" in text
    assert f'process_targets.py", line {line}, in raises_value_error' in text
    assert "ValueError: bad n: 5" in text


@pytest.mark.anyio
async def test_exception_that_cannot_be_unpickled_is_reported(pool: ProcessPool) -> None:
    with pytest.raises(ProcessPicklingError) as caught:
        await pool.run(targets.raises_unpicklable)
    message = str(caught.value)
    assert "raised tests.samples.process_targets.NeedsTwoArguments: 1 and 2" in message
    assert "Fix: give the exception class an __init__" in message


@pytest.mark.anyio
async def test_killed_worker_raises_and_is_replaced(pool: ProcessPool) -> None:
    with pytest.raises(WorkerCrashedError) as caught:
        await pool.run(targets.kill_self)
    message = str(caught.value)
    assert f"run_cpu(kill_self) ({TARGETS}:" in message
    assert "was killed by SIGKILL" in message
    assert "the next call runs in a new one" in message
    assert caught.value.exitcode == -9
    worker, value = await pool.run(targets.scaled_sum, 1, 2)
    assert value == 3 and worker not in (os.getpid(), caught.value.exitcode)
    stats = pool.statistics()
    assert (stats.size, stats.busy, stats.waiting, stats.replaced) == (2, 0, 0, 1)
    assert stats.alive >= 1  # replaced on demand: the next call started a new worker


@pytest.mark.anyio
async def test_os_exit_reports_the_exit_code(pool: ProcessPool) -> None:
    with pytest.raises(WorkerCrashedError, match="exited with code 3") as caught:
        await pool.run(targets.exit_hard, 3)
    assert "exit_hard" in str(caught.value)
    assert caught.value.exitcode == 3
    assert (await pool.run(targets.scaled_sum, 2, 2))[1] == 4


@pytest.mark.anyio
async def test_a_worker_that_died_while_idle_is_replaced_silently(pool: ProcessPool) -> None:
    workers = {await pool.run(targets.pid) for _ in range(4)}
    for worker in workers:
        os.kill(worker, 9)
    # dead (a zombie, its pipes closed) before the next call: else that call would be the
    # one running when it dies, and fail
    await wait_until(lambda: not workers & children(), "the killed workers to exit")
    assert await pool.run(targets.pid) not in workers


@pytest.mark.anyio
async def test_more_calls_than_workers_all_complete(pool: ProcessPool, gate: Gate) -> None:
    results: list[int] = []

    async def one() -> None:
        results.append(await pool.run(targets.wait_at_gate, gate.path))

    async with anyio.create_task_group() as group:
        for _ in range(9):
            group.start_soon(one)
        # two calls run (held at the gate), seven wait for a worker: until the gate opens
        await wait_until(lambda: pool.statistics().waiting == 7, "seven waiting callers")
        await wait_until(lambda: len(gate.entered()) == 2, "two running calls")
        assert pool.statistics() == ProcessPoolStatistics(
            size=2, alive=2, busy=2, waiting=7, replaced=0
        )
        gate.open()
    assert len(results) == 9
    assert len(set(results)) == 2  # the two workers took turns
    assert pool.statistics() == ProcessPoolStatistics(
        size=2, alive=2, busy=0, waiting=0, replaced=0
    )


@pytest.mark.anyio
async def test_cancelling_a_call_kills_the_worker_and_replaces_it(
    pool: ProcessPool, gate: Gate
) -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(pool.run, targets.wait_at_gate, gate.path)
        await wait_until(lambda: len(gate.entered()) == 1, "the call to start")
        group.cancel_scope.cancel()  # the call can only end by being killed: the gate is shut
    (running,) = gate.entered()
    assert running not in children()  # killed, and reaped
    assert pool.statistics().replaced == 1
    assert await pool.run(targets.pid) not in (running, os.getpid())
    stats = pool.statistics()
    assert stats.alive >= 1 and stats.busy == 0


@pytest.mark.anyio
async def test_cancelling_a_waiting_call_leaves_the_pool_intact(gate: Gate) -> None:
    async with ProcessPool(1) as pool:
        async with anyio.create_task_group() as group:
            group.start_soon(pool.run, targets.wait_at_gate, gate.path)
            await wait_until(lambda: len(gate.entered()) == 1, "the first call to start")
            waiting = anyio.CancelScope()
            group.start_soon(_cancelled_while_waiting, pool, waiting)
            await wait_until(lambda: pool.statistics().waiting == 1, "a waiting caller")
            waiting.cancel()
            await wait_until(lambda: pool.statistics().waiting == 0, "the caller to leave")
            assert pool.statistics().busy == 1  # the running call was not disturbed
            gate.open()
        assert pool.statistics().replaced == 0
        assert await pool.run(targets.pid) == gate.entered()[0]  # the same worker


async def _cancelled_while_waiting(pool: ProcessPool, scope: anyio.CancelScope) -> None:
    with scope:
        await pool.run(targets.pid)
        pytest.fail("the call ran, though its only worker was busy")


@pytest.mark.anyio
async def test_shutdown_leaves_no_child_processes() -> None:
    pool = ProcessPool(2)
    await pool.start()
    assert pool.statistics().alive == 2
    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(pool.run, targets.spin, 5)
    workers = {await pool.run(targets.pid) for _ in range(3)}
    assert workers <= children()
    await pool.shutdown()
    assert not workers & children()
    assert pool.statistics().alive == 0
    # Usable again: new workers start on demand.
    assert await pool.run(targets.pid) not in workers
    await pool.shutdown()


@pytest.mark.anyio
async def test_shutdown_kills_a_call_that_outlives_the_grace_period(gate: Gate) -> None:
    pool = ProcessPool(1)
    caught: list[WorkerCrashedError] = []

    async def long_call() -> None:
        with pytest.raises(WorkerCrashedError) as crashed:
            await pool.run(targets.wait_at_gate, gate.path)
        caught.append(crashed.value)

    async with anyio.create_task_group() as group:
        group.start_soon(long_call)
        await wait_until(lambda: len(gate.entered()) == 1, "the call to start")
        await pool.shutdown(grace_period=0.2)  # the gate stays shut: the call outlives it
    (error,) = caught
    message = str(error)
    assert message.startswith(f"run_cpu(wait_at_gate) ({TARGETS}:")
    assert "was killed by the pool's shutdown (still busy after the 0.2 s grace period)" in message
    assert "Calls made after the shutdown start new workers." in message
    assert "out-of-memory" not in message and "replaced" not in message
    assert error.exitcode == -9
    assert pool.statistics() == ProcessPoolStatistics(
        size=1, alive=0, busy=0, waiting=0, replaced=0
    )


@pytest.mark.anyio
async def test_resize_and_size_validation() -> None:
    pool = ProcessPool()
    assert pool.size == (os.cpu_count() or 1)
    pool.resize(1)
    await pool.start()
    assert pool.statistics().alive == 1
    await pool.shutdown()
    with pytest.raises(ProcessPoolError, match=r"whole number of workers >= 1 and <= 1024; got 0"):
        ProcessPool(0)
    with pytest.raises(ProcessPoolError, match=r"<= 1024; got 100000. Fix: leave it unset"):
        ProcessPool(100_000)
    with pytest.raises(ProcessPoolError, match="got True"):
        pool.resize(True)


def test_a_pool_time_limit_is_validated_as_the_pool_s_own_error() -> None:
    for bad in (0, -1.0, float("nan"), True, "5"):
        with pytest.raises(ProcessPoolError, match=r"ProcessPool\(timeout=...\) must be a number"):
            ProcessPool(1, timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ProcessPoolError, match=r"install\(process_timeout=...\) must be"):
        install(FastAPI(), check="off", process_timeout=0)


def test_each_event_loop_gets_its_own_workers_which_end_with_it() -> None:
    pool = ProcessPool(1)

    async def call() -> int:
        return await pool.run(targets.pid)

    first = anyio.run(call)
    assert first not in children()  # anyio stops a loop's workers when the loop ends
    second = anyio.run(call, backend="trio") if _trio_runs() else anyio.run(call)
    assert second not in (first, os.getpid())
    assert second not in children()
    assert pool.statistics().alive == 0


def _trio_runs() -> bool:
    return int(version("anyio").split(".")[0]) >= 4


def test_two_threads_use_one_pool_at_once(gate: Gate) -> None:
    """Each thread's event loop has its own workers; the pool's size applies per loop."""
    pool = ProcessPool(1)
    other: list[int] = []

    def other_thread() -> None:
        other.append(anyio.run(pool.run, targets.pid))

    async def long_call() -> int:
        async with anyio.create_task_group() as group:
            group.start_soon(pool.run, targets.wait_at_gate, gate.path)
            await wait_until(lambda: len(gate.entered()) == 1, "the call to start")
            # the call is in flight until the gate opens: the other thread's call runs now
            await anyio.to_thread.run_sync(_run_in_a_thread, other_thread)
            gate.open()
        return gate.entered()[0]

    held = anyio.run(long_call)
    assert len(other) == 1 and other[0] not in (held, os.getpid())


def _run_in_a_thread(target: Callable[[], None]) -> None:
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
