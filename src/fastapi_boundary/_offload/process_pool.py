"""Process offload: CPU-bound functions run in worker processes (rule R6), on ``anyio.to_process``.

``async def`` does not help CPU-bound work, and a thread does not either (the
GIL); a worker process does.  The workers are anyio's (one set per event
loop, killed when the loop ends, pruned after five idle minutes); every call
goes through `process_trampoline.call`.  What this module and its neighbours
add over ``anyio.to_process.run_sync``:

- ``@cpu_bound`` (`process_targets`) rejects, when the function is defined,
  what a worker could never import; ``run_cpu(f, x, key=1)`` takes keyword
  arguments, typed with ``ParamSpec``, and names an argument that cannot be
  pickled;
- a time limit per pool (``ProcessPool(4, timeout=30)``; the default pool's
  from ``install(app, process_timeout=...)``): past it, the worker is killed
  and the caller gets `OffloadTimeoutError` naming the function, the limit
  and where it was set.  Any other cancellation (``anyio.fail_after``, a
  client that went away) kills the worker too;
- a worker that dies fails only its call, with `WorkerCrashedError` naming the
  function and the signal or exit code; the next call starts a new worker;
- the target's exception keeps its type and the worker's traceback;
- workers die with the server, keep no state from one call to the next
  (``sys.path``, working directory, soft resource limits), and a process a
  target starts cannot reach anyio's pipes (see `process_trampoline`);
- per-pool sizes and statistics, a ``start`` that warms workers up from a
  lifespan, a ``shutdown`` with a grace period.
"""

from __future__ import annotations

import asyncio
import os
import signal
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, ParamSpec, TypeVar, cast, overload

import anyio
import anyio.to_process
from anyio import BrokenWorkerProcess, CapacityLimiter, get_cancelled_exc_class
from anyio.abc import Process
from anyio.lowlevel import RunVar

from .._common import fixes, hooks
from .._common.errors import OffloadTimeoutError, ProcessPoolError, WorkerCrashedError
from .._common.sites import caller_site
from . import cpu_backend
from .process_answers import crashed, decode, start_failed
from .process_targets import call_text, encode_call, target_reference
from .process_trampoline import WORKER_ALARM, call
from .process_workers import (
    exit_status,
    failed_before_sending,
    forget_inherited,
    idle_workers,
    is_alive,
    is_alive_fast,
    kill_busy,
    loop_workers,
    process_of_failed_call,
    prune_dead_idle,
    record_popens,
    retire_idle,
    retire_pid,
)
from .time_limits import check_timeout

__all__ = [
    "DEFAULT_TIMEOUT",
    "ProcessPool",
    "ProcessPoolStatistics",
    "default_process_pool",
    "run_cpu",
]

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may run in its worker, unless its pool says otherwise.

A minute is longer than a proxy waits for a response (nginx: 60 s): a call
still running then serves nobody, and a hung one would hold its worker forever.
"""

MAX_PROCESSES = 1_024
"""More worker processes than this is a typo (each is an interpreter), not a sizing choice."""


def _nothing() -> None:
    return None


_running_asyncio_loop = asyncio._get_running_loop  # None under trio: then anyio's RunVar
_ALARM_EXIT = -signal.SIGALRM if WORKER_ALARM else None  # a worker past its time limit
_REAP_WAIT = 5.0  # seconds shutdown waits for the callers of the workers it killed
_ATTEMPTS = 3  # workers tried for one call when each turns out dead before it reads it
_DEFAULT_POOL_SITE = "the default pool; install(app, process_timeout=...) sets it"


def check_size(size: object) -> int:
    if size is None:
        return os.cpu_count() or 1
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PROCESSES:
        raise ProcessPoolError(
            f"a process pool needs a whole number of workers >= 1 and <= {MAX_PROCESSES}; "
            f"got {size!r}. Fix: leave it unset (one per CPU) or size it from the cores you "
            f"can use."
        )
    return size


@dataclass(frozen=True)
class ProcessPoolStatistics:
    """A snapshot of a process pool, for metrics."""

    size: int
    """Most calls the pool runs at once (each in its own worker process)."""
    alive: int
    """Worker processes alive now on the event loops the pool has used (dead ones never count)."""
    busy: int
    """Calls running in a worker."""
    waiting: int
    """Callers waiting for a free worker."""
    replaced: int
    """Workers that died or were killed during a call (crash, time limit, cancellation)."""


class _LoopState:
    """A pool's share of one event loop: its limiter and the calls it runs there."""

    __slots__ = (
        "__weakref__",
        "calls",
        "generation",
        "idle",
        "idle_workers",
        "limiter",
        "stopping",
        "workers",
    )

    def __init__(self, size: int) -> None:
        self.limiter = CapacityLimiter(size)
        self.calls = 0  # calls of this pool on this loop now (waiting for a worker or running)
        self.idle: anyio.Event | None = None  # set when the last running call ends (shutdown)
        self.stopping = ""  # why shutdown cancels the running calls, for their errors
        self.workers: set[Process] | None = None  # anyio's worker set of this loop, once made
        self.idle_workers: deque[tuple[Process, float]] | None = None  # and its idle ones
        self.generation = _forks

    def see_workers(self) -> None:
        """Find anyio's worker set of this loop (made by the loop's first call)."""
        self.workers, self.idle_workers = loop_workers(), idle_workers()


_forks = 0
"""How many times this process is a fork's child: a state made before belongs to the parent."""
_pid = os.getpid()  # the workers' parent: this process (kept current across forks)


def _forked() -> None:
    global _forks, _pid
    _forks += 1
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class ProcessPool:
    """Worker processes for CPU-bound calls: at most ``size`` at once, each within ``timeout``.

    ``size`` defaults to one per CPU; ``timeout`` (seconds, ``None`` for no
    limit) bounds each call's run in its worker (not its wait for one): past
    it the worker ends itself (SIGALRM at its default action, which stops C
    code too; on Windows the caller cancels it) and the caller gets
    `OffloadTimeoutError`.  Workers are anyio's, one set per event loop
    (shared by the pools used on that loop): they start on demand (or with
    `start`), die with their loop, and are pruned after five idle minutes.
    A pool may be used from any number of event loops and threads at once;
    each loop gets its own workers.

    Cancelling a call (``anyio.fail_after``, a client that went away) kills
    its worker.  Use it as ``async with pool:`` in a lifespan, or pass it to
    ``install(app, processes=pool)``, to start workers eagerly and stop them
    on the way out.
    """

    def __init__(self, size: int | None = None, *, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self._size = check_size(size)
        self._timeout = check_timeout(timeout, "ProcessPool(timeout=...)", ProcessPoolError)
        self._timeout_site = str(caller_site())
        # this pool's state on each event loop: asyncio loops by a weak dictionary (cheaper), others
        # through a RunVar
        self._by_loop: weakref.WeakKeyDictionary[object, _LoopState] = weakref.WeakKeyDictionary()
        self._last_loop: Callable[[], object] = _nothing
        self._last_state: _LoopState | None = None
        self._state: RunVar[_LoopState] = RunVar(f"fastapi_boundary.ProcessPool.{id(self):x}")
        self._states: weakref.WeakSet[_LoopState] = weakref.WeakSet()
        self._replaced = 0

    @property
    def size(self) -> int:
        """Most calls the pool runs at once."""
        return self._size

    @property
    def timeout(self) -> float | None:
        """Seconds a call may take (``None``: no limit)."""
        return self._timeout

    def resize(self, size: int | None) -> None:
        """Change the size (``None``: one per CPU); running calls are not disturbed."""
        self._size = check_size(size)
        for state in self._states:
            state.limiter.total_tokens = self._size

    def set_timeout(self, timeout: float | None, site: object, what: str) -> None:
        """Change the time limit; ``site`` is where, named in the error of a call past it."""
        self._timeout = check_timeout(timeout, what, ProcessPoolError)
        self._timeout_site = str(site)

    def statistics(self) -> ProcessPoolStatistics:
        """Workers alive, calls running and waiting, and workers replaced so far."""
        try:  # anyio creates a loop's worker set in the loop's first call: look for it now
            here = self._loop_state(create=False)
        except Exception:  # not in an event loop
            here = None
        if here is not None and here.workers is None:
            here.see_workers()
        alive = busy = waiting = 0
        seen: set[int] = set()
        for state in self._states:
            busy += state.limiter.borrowed_tokens
            waiting += state.limiter.statistics().tasks_waiting
            if state.workers is not None and id(state.workers) not in seen:
                seen.add(id(state.workers))
                alive += sum(1 for process in state.workers if is_alive(process))
        return ProcessPoolStatistics(self._size, alive, busy, waiting, self._replaced)

    @overload
    def _loop_state(self, create: Literal[True] = True) -> _LoopState: ...
    @overload
    def _loop_state(self, create: bool) -> _LoopState | None: ...

    def _loop_state(self, create: bool = True) -> _LoopState | None:
        """This pool's state on the running event loop (made on first use)."""
        loop = _running_asyncio_loop()
        if loop is not None:
            if loop is self._last_loop():  # the common case: one loop, for the app's life
                state = self._last_state
            else:
                state = self._by_loop.get(loop)
                if state is not None:
                    self._last_loop, self._last_state = weakref.ref(loop), state
        else:
            try:
                state = self._state.get()
            except LookupError:
                state = None
        if state is not None and state.generation == _forks:
            return state
        if state is not None:  # a forked copy of the parent's loop: never its workers
            forget_inherited()
        elif not create:
            return None
        else:
            record_popens()
        state = _LoopState(self._size)
        if loop is not None:
            self._by_loop[loop] = state
            self._last_loop, self._last_state = weakref.ref(loop), state
        else:
            self._state.set(state)
        self._states.add(state)
        return state

    async def start(self) -> None:
        """Start ``size`` workers now (on this event loop) and wait until each has answered.

        Call it from a lifespan: the first requests then do not pay for
        starting interpreters, and a worker that cannot start fails the
        application's start-up instead of a request.
        """
        async with anyio.create_task_group() as group:
            for _ in range(self._size):  # concurrent: each takes a worker of its own
                group.start_soon(self._warm)

    async def _warm(self) -> None:
        await self.run(os.getpid)

    async def shutdown(self, grace_period: float = 10.0) -> None:
        """Stop this event loop's workers: idle ones now, busy ones after ``grace_period``.

        A worker still running a call after the grace period is killed; its
        caller gets `WorkerCrashedError`.  Calls made during or after the
        shutdown start new workers.  Workers of other event loops stop when
        their loop ends.  (anyio's workers belong to the loop: a busy worker
        of another pool on this loop is killed too.)
        """
        state = self._loop_state(create=False)
        if state is not None and state.calls:
            state.idle = anyio.Event()
            with anyio.move_on_after(grace_period):
                await state.idle.wait()
            if state.calls:
                state.stopping = (
                    f"was killed by the pool's shutdown (still busy after the {grace_period:g} s "
                    f"grace period)"
                )
                try:
                    with anyio.CancelScope(shield=True):
                        kill_busy()
                        with anyio.move_on_after(_REAP_WAIT):
                            while state.calls:  # their callers see the workers die
                                state.idle = anyio.Event()
                                await state.idle.wait()
                finally:
                    state.stopping = ""
        await retire_idle()

    async def __aenter__(self) -> ProcessPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` in a worker process and return its result.

        ``func`` must be importable by module and name (see `cpu_bound`);
        arguments and result travel pickled.  Raises what ``func`` raised
        (with the worker's traceback), `ProcessTargetError` or
        `ProcessPicklingError` before anything is sent, `OffloadTimeoutError`
        past the pool's time limit, and `WorkerCrashedError` if the worker died.
        """
        request = encode_call(target_reference(func), func, args, kwargs)
        state = self._loop_state()
        limit = self._timeout
        if limit is not None and not WORKER_ALARM:  # pragma: no cover - Windows
            with anyio.CancelScope(deadline=anyio.current_time() + limit):
                return await self._call(state, func, request, None)
            raise self._timed_out(func, None)
        return await self._call(state, func, request, limit)

    async def _call(
        self, state: _LoopState, func: Callable[..., T], request: bytes, alarm: float | None
    ) -> T:
        """One call; ``alarm``: the worker ends itself (SIGALRM) if the call runs longer."""
        state.calls += 1
        try:
            for attempt in range(_ATTEMPTS):
                idle = state.idle_workers
                if idle and not is_alive_fast(idle[-1][0]):
                    await prune_dead_idle(idle)
                try:
                    status, body, pid, tainted = await anyio.to_process.run_sync(
                        call, _pid, alarm, request, cancellable=True, limiter=state.limiter
                    )
                    break
                except get_cancelled_exc_class() as cancelled:
                    if process_of_failed_call(cancelled) is not None:
                        self._replaced += 1  # anyio killed the worker
                    raise
                except BrokenWorkerProcess as broken:
                    # an idle worker that died (or that anyio let go): nothing ran yet
                    if failed_before_sending(broken) and attempt < _ATTEMPTS - 1:
                        continue
                    raise self._failed(state, func, broken) from None
        finally:
            state.calls -= 1
            if state.workers is None:
                state.see_workers()
            if state.idle is not None and not state.calls:
                state.idle.set()
        if tainted:
            await retire_pid(pid)
        return cast(T, decode(status, body, func, pid))

    def _failed(
        self, state: _LoopState, func: object, broken: BrokenWorkerProcess
    ) -> WorkerCrashedError | OffloadTimeoutError:
        """The error of a call whose worker died, or could not start."""
        died = process_of_failed_call(broken)
        if died is None:  # anyio could not start a worker
            return start_failed(func, broken)
        status = exit_status(died)
        if state.stopping:
            return WorkerCrashedError(
                f"{call_text(func)}: the worker process (pid {died.pid}) {state.stopping}. "
                f"Calls made after the shutdown start new workers.",
                exitcode=-signal.SIGKILL if hasattr(signal, "SIGKILL") else status,
            )
        self._replaced += 1
        if status == _ALARM_EXIT and self._timeout is not None:
            return self._timed_out(func, died)
        return crashed(func, died.pid, status)

    def _timed_out(self, func: object, killed: Process | None) -> OffloadTimeoutError:
        limit = self._timeout or 0.0
        fate = (
            f"its worker process (pid {killed.pid}) was killed; the next call starts a new one"
            if killed is not None
            else "its worker process, if it had one yet, was killed"
        )
        name = call_text(func)
        message = fixes.offload_timed_out("the process pool", name, limit, self._timeout_site)
        return OffloadTimeoutError(
            f"{message}. It stopped: {fate}.",
            function=call_text(func),
            limit=limit,
            declared_at=self._timeout_site,
        )


_default_pool: ProcessPool | None = None


def default_process_pool() -> ProcessPool:
    """The process-wide pool `run_cpu` uses (created on first use, one worker per CPU)."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ProcessPool()
        _default_pool.set_timeout(DEFAULT_TIMEOUT, _DEFAULT_POOL_SITE, "the default pool")
    return _default_pool


async def run_cpu(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a CPU-bound function in a worker process (or the installed `CpuBackend`) and await it.

    ``await run_cpu(resize, image, width=200)``: keyword arguments are
    passed through and mypy checks them against ``func``'s signature.  See
    `ProcessPool.run` for what it raises; cancelling the call kills the
    worker (the next call starts another).
    """
    if hooks.offload_observer.get() is not None:  # a request the monitor profiles
        return await hooks.observed_offload("process", run_cpu(func, *args, **kwargs))
    backend = cpu_backend.installed
    if backend is None:
        return await (_default_pool or default_process_pool()).run(func, *args, **kwargs)
    return await backend.run(func, *args, **kwargs)
