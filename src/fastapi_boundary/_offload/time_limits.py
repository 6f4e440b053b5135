"""What a cancelled or late thread call leaves behind: abandonment and time limits.

A thread cannot be stopped.  A cancellation or a time limit can only let the
*caller* go, and only where its limiter allows abandoning the thread.  The
thread then runs on to its end and keeps its limiter token until it really
ends (`Abandonable`): abandoned threads still count, so a limiter of 2 in
front of a pool of 2 connections never runs a third thread.

A limiter's time limit (``Limiter("db", size=10, timeout=5.0)``) bounds the
whole call as its caller sees it: waiting for a token, then the thread.  At
the limit the caller gets `OffloadTimeoutError`; the thread is abandoned *at
the limit only*: a plain cancellation still follows ``abandon_on_cancel``
(the wait for the thread is shielded from it, as anyio's own is).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from asyncio import _get_running_loop as _running_asyncio_loop
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from .._common import fixes
from .._common.anyio_compat import run_sync_in_thread
from .._common.errors import BoundaryError, LimiterError, OffloadTimeoutError
from .._common.sites import Site, display_name

__all__ = ["MAX_TIMEOUT", "Abandonable", "check_timeout", "run_with_time_limit"]

T = TypeVar("T")

MAX_TIMEOUT = 7 * 24 * 3600.0
"""The longest time limit a limiter takes (a week): beyond it, a limit is a typo, not a plan."""

_PENDING, _RUNNING, _DONE, _WITHDRAWN = range(4)


class _Missing:
    """No result: the call's time ran out (a sentinel ``None`` could be a result)."""


_MISSING = _Missing()


def check_timeout(
    value: object, what: str, error: type[BoundaryError] = LimiterError
) -> float | None:
    """A time limit: ``None`` (none) or seconds, a number > 0 and <= `MAX_TIMEOUT`.

    ``error`` is the class of the thing limited (a limiter's, a process pool's)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_TIMEOUT  # NaN fails every comparison
    ):
        raise error(
            f"{what} must be a number of seconds > 0 and <= {MAX_TIMEOUT:g} (a week), or None "
            f"for no limit; got {value!r}. Fix: the longest a caller may wait for the call, "
            f"e.g. timeout=5.0."
        )
    return float(value)


class Abandonable:
    """A call its caller may abandon: it holds its limiter token until its thread ends.

    The token is borrowed on behalf of this object, not the caller's task.  The
    caller gives it back when it stops waiting, unless the thread still runs the
    call: then the thread does when the call returns (through the event loop: a
    ``CapacityLimiter`` is not thread-safe).
    """

    __slots__ = ("call", "capacity", "left", "lock", "notify", "released", "state")

    def __init__(self, call: Callable[..., Any], capacity: anyio.CapacityLimiter) -> None:
        self.call = call
        self.capacity = capacity
        self.lock = threading.Lock()
        self.state = _PENDING
        self.left = False  # the caller stopped waiting
        self.released = False
        loop = _running_asyncio_loop()
        self.notify: Callable[[Callable[[], None]], object]
        if loop is not None:
            self.notify = loop.call_soon_threadsafe
        else:
            import trio.lowlevel  # anyio's only other backend

            self.notify = trio.lowlevel.current_trio_token().run_sync_soon

    async def acquire(self) -> None:
        if not self.acquire_nowait():
            await self.capacity.acquire_on_behalf_of(self)

    def acquire_nowait(self) -> bool:
        """Take a free token at once (no cancel scope, no checkpoint); False: one must wait."""
        try:
            self.capacity.acquire_on_behalf_of_nowait(self)
        except anyio.WouldBlock:
            return False
        except Exception as error:
            # older anyio 4 releases (4.4) let trio's own WouldBlock through on trio
            trio = sys.modules.get("trio")
            if trio is not None and isinstance(error, trio.WouldBlock):
                return False
            raise
        return True

    def __call__(self, *args: Any) -> Any:  # in the worker thread
        with self.lock:
            if self.state != _PENDING:
                return None  # withdrawn before it started: its caller has gone
            self.state = _RUNNING
        try:
            return self.call(*args)
        finally:
            with self.lock:
                self.state = _DONE
                abandoned = self.left
            if abandoned:  # else the caller, still waiting, gives the token back itself
                with contextlib.suppress(Exception):  # a closed loop holds no tokens
                    self.notify(self.release)

    def release(self) -> None:  # on the event loop
        if not self.released:
            self.released = True
            self.capacity.release_on_behalf_of(self)

    def leave(self) -> bool:
        """The caller is done waiting: give the token back unless the thread still runs.

        Returns whether the call never started (it is withdrawn: it never will).
        """
        with self.lock:
            if self.state == _PENDING:
                self.state = _WITHDRAWN
            state = self.state
            self.left = True
        if state != _RUNNING:
            self.release()
        return state == _WITHDRAWN


async def run_with_time_limit(
    call: Callable[..., T],
    args: tuple[Any, ...],
    *,
    function: object,
    limiter: str,
    capacity: anyio.CapacityLimiter | None,
    abandon: bool,
    limit: float,
    declared_at: Site,
    context_run: Callable[..., Any] | None = None,
) -> T:
    """Run ``call(*args)`` in a thread; its caller waits at most ``limit`` seconds.

    ``capacity`` is the limiter's ``CapacityLimiter`` (``None``: a nested call on a
    reserved token of its own).  ``context_run`` (a context's ``run``) runs the call
    in that context.  Raises `OffloadTimeoutError` at the limit, saying whether the
    call never started or runs on, holding its token.
    """
    deadline = anyio.current_time() + limit
    if capacity is None:
        target: Callable[..., Any] = call
        abandonable = None
    else:
        abandonable = Abandonable(call, capacity)
        if not abandonable.acquire_nowait():  # a free token needs no cancel scope to wait
            acquired = False
            # a scope cancelled by its own deadline swallows the cancellation: what did not
            # happen inside it tells (anyio 3 has no ``cancelled_caught``)
            with anyio.CancelScope(deadline=deadline):
                await capacity.acquire_on_behalf_of(abandonable)
                acquired = True
            if not acquired:
                queued = _queued(limiter, capacity)
                raise _timed_out(function, limiter, limit, declared_at, queued)
        target = abandonable
    thread_args = (target, *args) if context_run is not None else args
    runner = context_run if context_run is not None else target
    withdrawn = False
    result: T | _Missing = _MISSING
    # The thread is abandoned at the limit; a plain cancellation waits for it unless the
    # limiter abandons on cancel (anyio shields its own wait the same way).
    with anyio.CancelScope(deadline=deadline, shield=not abandon):
        try:
            result = await run_sync_in_thread(
                runner, *thread_args, abandon_on_cancel=True, limiter=anyio.CapacityLimiter(1)
            )
        finally:
            if abandonable is not None:
                withdrawn = abandonable.leave()
    if isinstance(result, _Missing):
        if withdrawn:
            fate = "It never started: its thread had not picked it up yet"
        else:
            held = f"its token of limiter {limiter!r}" if capacity else "its reserved token"
            fate = f"A thread cannot be stopped: it runs on, and keeps {held} until it ends"
        raise _timed_out(function, limiter, limit, declared_at, fate)
    return result


def _queued(limiter: str, capacity: anyio.CapacityLimiter) -> str:
    total = int(capacity.total_tokens)
    threads = "1 thread at a time, and it was" if total == 1 else f"{total} threads at a time, all"
    return (
        f"It never started: it waited for a token all along (limiter {limiter!r} runs "
        f"{threads} busy)"
    )


def _timed_out(
    function: object, limiter: str, limit: float, declared_at: Site, fate: str
) -> OffloadTimeoutError:
    name = display_name(function)
    message = fixes.offload_timed_out(f"limiter {limiter!r}", name, limit, declared_at)
    return OffloadTimeoutError(
        f"{message}. {fate}.", function=name, limit=limit, declared_at=str(declared_at)
    )
