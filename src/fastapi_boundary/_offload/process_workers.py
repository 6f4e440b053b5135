"""anyio's worker processes of the running event loop: the one place that reads anyio's internals.

``anyio.to_process`` keeps one set of workers per event loop (``RunVar``s
holding every worker and the idle ones, most recently used last), kills them
when the loop ends and prunes those idle for five minutes.  It offers no way
to count them, stop the idle ones, or tell which worker a failed call ran in;
this module does those three things, checked against anyio 3.7.1 to 4.16.
If a later anyio renames what it reads, counting and stopping degrade to
"none known" and a crash is reported without its exit status; calls still work.
"""

from __future__ import annotations

import contextlib
import os
import types
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

import anyio
import anyio.to_process
from anyio.abc import Process

__all__ = [
    "exit_status",
    "failed_before_sending",
    "forget_inherited",
    "idle_workers",
    "is_alive",
    "is_alive_fast",
    "kill_busy",
    "loop_workers",
    "process_of_failed_call",
    "prune_dead_idle",
    "record_popens",
    "retire_idle",
    "retire_pid",
]

_REAP_WAIT = 5.0  # seconds a killed worker may take to be reaped (it never needs as much)
_UNKNOWN_CHILD = 255  # asyncio's status for a child someone else reaped
_POPENS_KEPT = 1_024
_popens: dict[int, Any] = {}  # worker pid -> its subprocess.Popen (asyncio only)
_waitid = getattr(os, "waitid", None)
_ALL: Any = getattr(anyio.to_process, "_process_pool_workers", None)
_IDLE: Any = getattr(anyio.to_process, "_process_pool_idle_workers", None)


def loop_workers() -> set[Process] | None:
    """Every worker of the running loop (the live set anyio keeps), or ``None`` before the first."""
    if _ALL is None:  # pragma: no cover - a later anyio
        return None
    try:
        return cast("set[Process]", _ALL.get())
    except LookupError:
        return None


def idle_workers() -> deque[tuple[Process, float]] | None:
    """The running loop's idle workers (anyio takes the last one next), or ``None`` before."""
    return _idle()


def _idle() -> deque[tuple[Process, float]] | None:
    if _IDLE is None:  # pragma: no cover - a later anyio
        return None
    try:
        return cast("deque[tuple[Process, float]]", _IDLE.get())
    except LookupError:
        return None


def forget_inherited() -> None:
    """In a forked child still in its parent's loop: start a worker set of its own.

    The inherited workers are the parent's (killing them would break its
    calls); the child only drops them.  They die with the parent.
    """
    if _ALL is not None and _IDLE is not None:
        _ALL.set(set())
        _IDLE.set(deque())


def is_alive(process: Process) -> bool:
    """Whether ``process`` can still answer: it has not exited, and anyio has not let it go.

    When the task anyio takes for the loop's root ends before the loop (a
    pytest fixture's, say), anyio kills the loop's workers without reaping
    them: their ``returncode`` stays ``None`` for good, but their pipes are
    closed, which is what this looks at.
    """
    if process.returncode is not None or _exited(process.pid):
        return False
    stdin = getattr(getattr(process, "_stdin", None), "_stream", None)
    transport = getattr(stdin, "transport", None)
    return not (transport is not None and transport.is_closing())


def exit_status(process: Process) -> int | None:
    """How ``process`` ended (negative: the signal), as exactly as can be known.

    anyio kills a worker again after it died; on Python < 3.12 that
    ``Popen.send_signal`` may reap it before asyncio's child watcher, which
    then reports 255 ("unknown child process") while the ``Popen`` has the
    real status.  `record_popens` kept the ``Popen`` for this.
    """
    status = process.returncode
    popen = _popens.pop(process.pid, None) or _popen_of(process)
    real = getattr(popen, "returncode", None)
    if status == _UNKNOWN_CHILD and isinstance(real, int) and real != 0:
        return real
    return status


def _popen_of(process: Process) -> Any:
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    return getattr(transport, "_proc", None)


class _RecordingSet(set):  # type: ignore[type-arg]
    """anyio's worker set for a loop, remembering each worker's ``Popen`` (see `exit_status`)."""

    def add(self, process: Process) -> None:
        popen = _popen_of(process)
        if popen is not None:
            if len(_popens) >= _POPENS_KEPT:  # the oldest first: long gone, or still fine
                for pid in list(_popens)[: _POPENS_KEPT // 2]:
                    del _popens[pid]
            _popens[process.pid] = popen
        super().add(process)


def record_popens() -> None:
    """Before anyio's first worker on this loop: make its worker set a `_RecordingSet`.

    Does what anyio does on a loop's first call (the set, the idle deque, the
    stop at the loop's end); a loop where anyio went first keeps anyio's set.
    """
    if _ALL is None or _IDLE is None:  # pragma: no cover - a later anyio
        return
    try:
        _ALL.get()
        return
    except LookupError:
        pass
    backend = _backend()
    setup = getattr(backend, "setup_process_pool_exit_at_shutdown", None)
    if setup is None:  # pragma: no cover - a later anyio
        return
    workers = _RecordingSet()
    _ALL.set(workers)
    _IDLE.set(deque())
    setup(workers)


def _backend() -> Any:
    from anyio._core import _eventloop

    find = getattr(_eventloop, "get_async_backend", None)
    if find is None:  # anyio 3
        find = vars(_eventloop)["get_asynclib"]
    return find()


def is_alive_fast(process: Process) -> bool:
    """`is_alive` without the look at anyio's pipes: one system call, for every call."""
    return process.returncode is None and not _exited(process.pid)


def _exited(pid: int) -> bool:
    """Whether child ``pid`` has exited, before the event loop has noticed (it stays waitable)."""
    if _waitid is None:  # pragma: no cover - Windows
        return False
    try:
        return _waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


async def prune_dead_idle(idle: deque[tuple[Process, float]]) -> None:
    """Drop the idle workers anyio would take next that have died (``kill -9``, out of memory).

    anyio only looks at ``returncode``, which the event loop sets some time
    after the exit; a call handed to such a worker would fail although
    nothing ran.  The loop still reaps them.
    """
    dead = []
    while idle and not is_alive(idle[-1][0]):
        dead.append(idle.pop()[0])
    every = loop_workers()
    if every is not None:
        every.difference_update(dead)
    await _stop(dead)


def failed_before_sending(error: BaseException) -> bool:
    """Whether anyio's ``BrokenWorkerProcess`` came from writing the request: nothing ran."""
    cause = error.__cause__
    tb: types.TracebackType | None = cause.__traceback__ if cause is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "send":
            return True
        tb = tb.tb_next
    return False


async def _stop(processes: Iterable[Process]) -> None:
    """Kill and reap, shielded: an unreaped worker would stay a zombie."""
    stopping = list(processes)
    with anyio.CancelScope(shield=True):
        for process in stopping:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        for process in stopping:
            with anyio.move_on_after(_REAP_WAIT):  # the loop reaps it; never wait for long
                await process.aclose()


async def retire_idle() -> int:
    """Stop the running loop's idle workers now (anyio would reuse them); return how many."""
    idle, every = _idle(), loop_workers()
    if not idle or every is None:
        return 0
    leaving = [process for process, _since in idle]
    idle.clear()
    every.difference_update(leaving)
    await _stop(leaving)
    return len(leaving)


def kill_busy() -> None:
    """Kill the running loop's workers that are running a call (for a shutdown's grace period)."""
    idle, every = _idle(), loop_workers()
    if every is None:
        return
    resting = {id(process) for process, _since in idle or ()}
    for process in every:
        if id(process) not in resting and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


async def retire_pid(pid: int) -> None:
    """Stop the idle worker ``pid`` (one whose per-call state could not be put back)."""
    idle, every = _idle(), loop_workers()
    if idle is None or every is None:  # pragma: no cover - a later anyio
        return
    for entry in list(idle):
        if entry[0].pid == pid:
            idle.remove(entry)
            every.discard(entry[0])
            await _stop([entry[0]])


def process_of_failed_call(error: BaseException) -> Process | None:
    """The worker a failed or cancelled ``run_sync`` call was talking to, from its traceback.

    anyio discards (and kills) that worker before it raises; its ``run_sync``
    frame still holds it.  ``None`` when the call never reached a worker: it
    was cancelled while waiting for the limiter or starting a worker.
    """
    tb: types.TracebackType | None = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if (
            frame.f_code.co_name == "send_raw_command"
            and frame.f_globals.get("__name__") == anyio.to_process.__name__
        ):
            process = frame.f_locals.get("process")
            return process if isinstance(process, Process) else None
        tb = tb.tb_next
    return None
