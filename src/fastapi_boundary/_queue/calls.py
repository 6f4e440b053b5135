"""The loop side of a queued call: ``run_queued``, ``enqueue`` and ``queued_result``.

Each call takes a thread of the queue's limiter for the broker and the
result backend (see `waiting`), so the event loop only awaits.  Cancelling
the awaiting task revokes the task (a worker that has not started it skips
it; one that has started it runs it to the end); a call that runs past the
declared ``timeout`` is revoked too and raises `OffloadTimeoutError`, naming
the task, the queue and the limit.  A worker's exception is raised here with
its type, the worker's traceback and the task id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio

from .._common import fixes
from .._common.anyio_compat import run_sync_in_thread
from .._common.errors import BoundaryError, OffloadError, OffloadTimeoutError, RemoteTraceback
from .celery_api import CONNECTION_ERRORS
from .targets import QueueTarget, target_of
from .waiting import TIMED_OUT, Call, Outcome, publish_and_wait, publish_only, wait

__all__ = ["dispatch", "enqueue", "queued_result", "run_queued"]

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger("fastapi_boundary")


def _as(target: QueueTarget, offload: str) -> QueueTarget:
    """``target`` named as ``offload(...)`` calls it in messages (``enqueue(resize) (...)``)."""
    return dataclasses.replace(
        target, display=target.display.replace("run_queued(", f"{offload}(", 1)
    )


def _deadline(target: QueueTarget) -> float | None:
    return None if target.timeout is None else time.monotonic() + target.timeout


def _revoke(target: QueueTarget, task_id: str) -> None:
    try:
        target.app.control.revoke(task_id)
    except CONNECTION_ERRORS as error:
        logger.warning(
            "could not revoke task %s on queue %r: %s", task_id, target.queue_name, error
        )


async def _revoke_shielded(target: QueueTarget, task_id: str) -> None:
    with anyio.CancelScope(shield=True):
        await run_sync_in_thread(_revoke, target, task_id)


_REVOKED = (
    "The task was revoked: a worker that has not started it skips it, one that has runs it to "
    "the end."
)


def _timed_out(call: Call, fate: str) -> OffloadTimeoutError:
    target = call.target
    limit = target.timeout or 0.0
    return OffloadTimeoutError(
        fixes.offload_timed_out(
            f"queue '{target.queue_name}'",
            f"{target.display}, task {target.task.name}[{call.task_id}],",
            limit,
            target.declared_at,
        )
        + ". "
        + fate,
        function=target.display,
        limit=limit,
        declared_at=str(target.declared_at),
    )


def _attach_traceback(error: BaseException, text: str) -> None:
    """Keep the worker's frames: a note (3.11+) or a ``__cause__`` (3.10)."""
    if sys.version_info >= (3, 11):
        error.add_note(text)
    else:  # pragma: no cover - version dependent
        error.__cause__ = RemoteTraceback(f'\n{text}\n"""')


def _result(call: Call, outcome: Outcome) -> Any:
    """The task's return value, or its exception raised here with the worker's traceback."""
    if outcome.state == "SUCCESS":
        return outcome.value
    target = call.target
    where = f"Celery task {target.task.name}[{call.task_id}] on queue '{target.queue_name}'"
    error = outcome.value
    if not isinstance(error, BaseException):
        error = BoundaryError(f"{where} ended in state {outcome.state}: {error!r}")
    text = f"{where} ended in state {outcome.state}"
    if outcome.traceback:
        text += f"; the worker's traceback:\n{outcome.traceback.rstrip()}"
    _attach_traceback(error, text)
    with contextlib.suppress(AttributeError):  # an exception type with __slots__
        error.task_id = call.task_id
    raise error


async def dispatch(
    target: QueueTarget,
    func: object,
    user_args: tuple[Any, ...],
    user_kwargs: dict[str, Any],
    send_args: tuple[Any, ...] | list[Any],
    send_kwargs: dict[str, Any],
) -> Any:
    """Publish ``target``'s task and await its result off the loop (`CeleryBackend` too)."""
    call = Call(target, str(uuid.uuid4()), _deadline(target), func, user_args, user_kwargs)
    try:
        outcome = await target.limiter.run(publish_and_wait, call, send_args, send_kwargs)
    except anyio.get_cancelled_exc_class():
        call.stop.set()
        if call.published:
            await _revoke_shielded(target, call.task_id)
        raise
    if outcome is TIMED_OUT:
        if call.published:
            await _revoke_shielded(target, call.task_id)
        raise _timed_out(call, _REVOKED if call.published else "The task was not sent.")
    return _result(call, outcome)


async def run_queued(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a ``@queued`` function on a worker of its Celery app and await its result.

    ``await run_queued(resize, image, width=200)``: typed like ``resize``.
    Raises the task's own exception (with the worker's traceback and the
    task id), `QueueEncodingError` for an argument the serializer cannot
    encode, `QueueUnavailableError` when the broker or the result backend is
    down, `OffloadTimeoutError` past the declared ``timeout``.
    """
    target = target_of(func, "run_queued")
    result: T = await dispatch(target, func, args, kwargs, args, kwargs)
    return result


async def enqueue(func: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> str:
    """Send a ``@queued`` function's task without waiting for it; returns the task id.

    Await its result later with ``await queued_result(func, task_id)``.
    """
    target = _as(target_of(func, "enqueue"), "enqueue")
    call = Call(target, str(uuid.uuid4()), None, func, args, kwargs)
    await target.limiter.run(publish_only, call, args, kwargs)
    return call.task_id


async def queued_result(func: Callable[..., T], task_id: str, /) -> T:
    """Await the result of a task sent by `enqueue` (typed by ``func``, the ``@queued`` function).

    Bounded by ``func``'s declared ``timeout``; cancelling it stops waiting
    and leaves the task alone.
    """
    target = _as(target_of(func, "queued_result"), "queued_result")
    if not isinstance(task_id, str) or not task_id:
        raise OffloadError(
            f"queued_result() takes the task id that enqueue() returned; got {task_id!r}"
        )
    call = Call(target, task_id, _deadline(target), func)
    call.published = True
    try:
        outcome = await target.limiter.run(wait, call)
    except anyio.get_cancelled_exc_class():
        call.stop.set()
        raise
    if outcome is TIMED_OUT:
        raise _timed_out(call, "The task was left alone: its result can still be awaited.")
    result: T = _result(call, outcome)
    return result
