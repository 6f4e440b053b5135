"""The thread side of a queued call: publish, then wait for the result, off the event loop.

kombu publishes synchronously and ``AsyncResult.get`` blocks until the task
ends, so both run in a worker thread under the queue's limiter, never on the
loop.  The wait is Celery's own: with the Redis result backend it listens on
the task's pub/sub channel (no polling of the result key), checked once
after subscribing so that a result stored first is not missed.  It waits in
slices of `SLICE` seconds so that a cancelled caller's thread notices and
stops listening.

Celery keeps one result backend (one pub/sub connection) per thread unless
the backend says it is thread-safe, so each `AsyncResult` is made in the
thread that waits on it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .._common import fixes
from .._common.errors import QueueUnavailableError
from .celery_api import (
    CONNECTION_ERRORS,
    CeleryTimeoutError,
    EncodeError,
    async_result,
    maybe_sanitize_url,
)
from .encoding import encoding_error
from .targets import QueueTarget

__all__ = [
    "SLICE",
    "TIMED_OUT",
    "Call",
    "Outcome",
    "close",
    "publish",
    "publish_and_wait",
    "publish_only",
    "wait",
]

#: Seconds a waiting thread listens before it looks whether its caller left.
SLICE = 1.0

#: The result backends the waiting threads opened (one per thread and app), closed by `close`.
_opened: weakref.WeakSet[Any] = weakref.WeakSet()
_opened_lock = threading.Lock()


class _Closer:
    """Closes a thread's result backend when the thread ends (its thread-local is cleared).

    Celery keeps that backend in a thread-local too; dropped there, it becomes
    cyclic garbage whose sockets the collector may finalize first (a
    ResourceWarning, in whatever code runs then).  Closing it here, by
    reference count, is deterministic.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # a finalizer: nothing may escape it
            _close_backend(self.backend)


_thread_backends = threading.local()


def _backend_of(app: Any) -> Any:
    """The calling thread's result backend of ``app``, remembered so that it gets closed."""
    backend = app.backend
    closers: dict[int, _Closer] | None = getattr(_thread_backends, "closers", None)
    if closers is None:
        closers = _thread_backends.closers = {}
    closer = closers.get(id(app))
    if closer is None or closer.backend is not backend:
        closers[id(app)] = _Closer(backend)
        with _opened_lock:
            _opened.add(backend)
    return backend


def _close_backend(backend: Any) -> None:
    consumer = getattr(backend, "result_consumer", None)
    with contextlib.suppress(*CONNECTION_ERRORS, OSError, AttributeError):
        if consumer is not None:
            consumer.stop()  # the pub/sub connection
    pool = getattr(getattr(backend, "client", None), "connection_pool", None)
    if pool is not None:
        with contextlib.suppress(*CONNECTION_ERRORS, OSError):
            pool.disconnect()


def _release(result: Any, *, unsubscribe: bool) -> None:
    """Stop listening for ``result`` now, in this thread, while the connection is known good.

    An ``AsyncResult`` left to its ``__del__`` would unsubscribe whenever it is
    collected, in any thread, retrying for seconds if Redis is down then
    (Celery < 5.5); detached here, its ``__del__`` does nothing.
    """
    if unsubscribe:
        with contextlib.suppress(*CONNECTION_ERRORS):
            result.backend.remove_pending_result(result)
    result.backend = None


@dataclass(frozen=True)
class Outcome:
    """How a task ended, read in the waiting thread (no I/O left for the loop)."""

    state: str
    value: Any
    traceback: str | None


TIMED_OUT = Outcome("TIMED_OUT", None, None)
STOPPED = Outcome("STOPPED", None, None)


@dataclass
class Call:
    """One queued call, shared by the awaiting task and its thread."""

    target: QueueTarget
    task_id: str
    deadline: float | None
    func: object
    user_args: tuple[Any, ...] = ()
    user_kwargs: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    published: bool = False


def _backend_gave_up(error: RuntimeError) -> bool:
    """Celery's Redis result backend ends its reconnection retries with a plain RuntimeError."""
    return "Celery result store" in str(error)


def unavailable(call: Call, part: str, error: BaseException, outcome: str) -> QueueUnavailableError:
    conf = call.target.app.conf
    url = conf.broker_url if part == "broker" else conf.result_backend
    return QueueUnavailableError(
        fixes.queue_unavailable(
            call.target.display,
            part,
            str(maybe_sanitize_url(url)) if url else "(not configured)",
            "its reconnection retries ran out"
            if isinstance(error, RuntimeError)
            else f"{type(error).__name__}: {error}",
            outcome,
        )
        + "."
    )


def publish(call: Call, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> Any:
    """Send the task (in a worker thread); the broker's or the serializer's error, named."""
    call.published = True  # before the check: the loop revokes if it sees this
    if call.stop.is_set() or (call.deadline is not None and time.monotonic() > call.deadline):
        call.published = False
        return None
    target = call.target
    _backend_of(target.app)  # this thread's: apply_async subscribes through it
    try:
        result = target.task.apply_async(
            args, kwargs, task_id=call.task_id, **target.publish_options()
        )
    except EncodeError as error:
        call.published = False
        raise encoding_error(
            target.display,
            call.func,
            call.user_args,
            call.user_kwargs,
            target.serializer,
            error,
        ) from error
    except CONNECTION_ERRORS as error:
        call.published = False
        raise unavailable(call, "broker", error, "the task was not sent") from error
    except RuntimeError as error:
        call.published = False
        if not _backend_gave_up(error):
            raise
        # apply_async subscribes to the result before it publishes: the result backend first
        raise unavailable(call, "result backend", error, "the task was not sent") from error
    return result


def wait(call: Call) -> Outcome:
    """Wait for the task's result (in a worker thread) until it ends, the deadline or a stop."""
    _backend_of(call.target.app)
    result = async_result(call.task_id, call.target.app)  # this thread's result backend
    healthy = True
    try:
        while not call.stop.is_set():
            timeout = SLICE
            if call.deadline is not None:
                timeout = min(SLICE, call.deadline - time.monotonic())
                if timeout <= 0:
                    return TIMED_OUT
            try:
                result.get(timeout=timeout, propagate=False, disable_sync_subtasks=False)
            except CeleryTimeoutError:
                continue
            return Outcome(str(result.state), result.result, result.traceback)
        return STOPPED
    except (*CONNECTION_ERRORS, RuntimeError) as error:  # type: ignore[misc]
        if isinstance(error, RuntimeError) and not _backend_gave_up(error):
            raise
        healthy = False
        raise unavailable(
            call,
            "result backend",
            error,
            f"the task was sent (id {call.task_id}); await queued_result(...) with that id "
            f"once the result backend is back",
        ) from error
    finally:
        _release(result, unsubscribe=healthy)


def close(app: Any) -> None:
    """Close ``app``'s broker connections and the result backends the waiting threads opened.

    Called with no call in flight (`CeleryBackend.shutdown`); the next call opens new ones.
    """
    app.close()
    with _opened_lock:
        backends = [backend for backend in _opened if backend.app is app]
        for backend in backends:
            _opened.discard(backend)
    for backend in backends:
        _close_backend(backend)


def publish_and_wait(
    call: Call, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]
) -> Outcome:
    """One thread hop for the whole round trip, as ``task.apply_async(...).get()`` would be."""
    sent = publish(call, args, kwargs)
    if sent is None:
        return STOPPED if call.stop.is_set() else TIMED_OUT
    _release(sent, unsubscribe=False)  # wait() listens through the same subscription
    return wait(call)


def publish_only(call: Call, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> bool:
    """Send the task and stop listening for its result in this thread (fire and forget)."""
    result = publish(call, args, kwargs)
    if result is None:
        return False
    _release(result, unsubscribe=True)
    return True
