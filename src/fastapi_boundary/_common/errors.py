"""The exception hierarchy. Every error the library raises derives from one base.

Each also subclasses the matching builtin, so existing ``except TypeError``
or ``except RuntimeError`` clauses keep working::

    BoundaryError
     +-- LayerDeclarationError (TypeError)     a marker used on the wrong object
     +-- ModeMismatchError (TypeError)         R2: a public callable of the other mode
     +-- LayerDependencyError (TypeError)      R3: a layer depends on the other mode
     +-- RouteModeError (TypeError)            a route mixes modes (endpoint or tree)
     +-- BoundaryViolationsError (RuntimeError)  the start-up check found violations
     +-- AppLoadError (ImportError)            the CLI could not load the app
     +-- OffloadError (TypeError)              an offload given the wrong kind of callable
     |    +-- ProcessTargetError               a function a worker process cannot import or run
     |    +-- ProcessPicklingError             an argument, result or exception that cannot cross
     |    +-- QueueTargetError                 a function that cannot be a worker queue's task
     |    +-- QueueEncodingError               an argument the queue's serializer cannot encode
     +-- LimiterError (ValueError)             a limiter misdeclared or misconfigured
     +-- ProcessPoolError (RuntimeError)      the process pool misconfigured or misused
     |    +-- WorkerCrashedError               a worker process died while running a call
     +-- RemoteTraceback                      a worker's traceback, as ``__cause__`` (Python 3.10)
     +-- BlockingCallError (RuntimeError)     the guard caught blocking work on the event loop
     +-- QueueUnavailableError (ConnectionError)  the queue's broker or result backend is down
"""

from __future__ import annotations

from collections.abc import Iterable

from .violations import Violation

__all__ = [
    "AppLoadError",
    "BlockingCallError",
    "BoundaryError",
    "BoundaryViolationsError",
    "BoundaryWarning",
    "LayerDeclarationError",
    "LayerDependencyError",
    "LimiterError",
    "ModeMismatchError",
    "OffloadError",
    "OffloadTimeoutError",
    "ProcessPicklingError",
    "ProcessPoolError",
    "ProcessTargetError",
    "QueueEncodingError",
    "QueueTargetError",
    "QueueUnavailableError",
    "RemoteTraceback",
    "RouteModeError",
    "WorkerCrashedError",
]


class BoundaryError(Exception):
    """Base of every error raised by fastapi-boundary.

    ``violations`` holds the structured `Violation` records behind the
    message (empty for usage errors that are not rule violations).
    """

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.violations: tuple[Violation, ...] = tuple(violations)

    @classmethod
    def from_violations(cls, violations: Iterable[Violation]) -> BoundaryError:
        found = tuple(violations)
        return cls("\n".join(v.message for v in found), found)


class LayerDeclarationError(BoundaryError, TypeError):
    """A layer marker or base class was used on something it cannot apply to."""


class ModeMismatchError(BoundaryError, TypeError):
    """R2: a public callable of a layer does not match the layer's declared mode."""


class LayerDependencyError(BoundaryError, TypeError):
    """R3: a layer depends on a layer of the other mode."""


class RouteModeError(BoundaryError, TypeError):
    """An endpoint added to a declared router mixes modes (endpoint or dependencies)."""


class BoundaryViolationsError(BoundaryError, RuntimeError):
    """The start-up check of an app found violations (raised by ``install``)."""


class AppLoadError(BoundaryError, ImportError):
    """The CLI could not import or find the application it was pointed at."""


class OffloadError(BoundaryError, TypeError):
    """An offload was asked to run something it cannot (an ``async def``, a coroutine ...)."""


class LimiterError(BoundaryError, ValueError):
    """A limiter was declared twice, sized below 1, or named without being declared."""


class BoundaryWarning(UserWarning):
    """Emitted instead of an error when the configured mode is ``warn``."""


# Tracebacks and reprs show the public name (``fastapi_boundary.RouteModeError``).
for _public in (
    AppLoadError,
    BoundaryError,
    BoundaryViolationsError,
    BoundaryWarning,
    LayerDeclarationError,
    LayerDependencyError,
    ModeMismatchError,
    RouteModeError,
    OffloadError,
    LimiterError,
):
    _public.__module__ = "fastapi_boundary"


# --- process offload (appended; see _processes.py) ---


class ProcessTargetError(OffloadError):
    """A function a worker process cannot import or run (lambda, closure, method, async def ...)."""


class ProcessPicklingError(OffloadError):
    """An argument, result or exception that cannot be pickled to cross to or from a worker."""


class ProcessPoolError(BoundaryError, RuntimeError):
    """The process pool was misconfigured (size) or misused (from two threads at once)."""


class WorkerCrashedError(ProcessPoolError):
    """A worker process died while running a call (signal, ``os._exit``, out of memory).

    ``exitcode`` is the worker's status as ``subprocess.Popen.returncode``
    gives it: negative for the signal that killed it.  The pool has already
    replaced the worker; the next call runs in a new one.
    """

    def __init__(
        self, message: str, violations: Iterable[Violation] = (), *, exitcode: int | None = None
    ) -> None:
        super().__init__(message, violations)
        self.exitcode = exitcode


class OffloadTimeoutError(BoundaryError, TimeoutError):
    """An offloaded call ran past the time limit declared for its limiter, pool or queue.

    ``function`` is the call's display name, ``limit`` the limit in seconds and
    ``declared_at`` the ``file:line`` where the limit was set.  A process call's
    worker has been killed (and is replaced); a thread call's thread may still be
    running, and holds its limiter token until it really ends.
    """

    def __init__(
        self,
        message: str,
        violations: Iterable[Violation] = (),
        *,
        function: str = "",
        limit: float | None = None,
        declared_at: str = "",
    ) -> None:
        super().__init__(message, violations)
        self.function = function
        self.limit = limit
        self.declared_at = declared_at


class RemoteTraceback(BoundaryError):
    """The formatted traceback of a worker process.

    On Python 3.10, which has no exception notes, an exception re-raised from
    a worker gets one as ``__cause__``, as ``concurrent.futures`` does.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


for _public in (
    OffloadTimeoutError,
    ProcessPicklingError,
    ProcessPoolError,
    ProcessTargetError,
    RemoteTraceback,
    WorkerCrashedError,
):
    _public.__module__ = "fastapi_boundary"


# --- run-time detection of fake async (see _guard.py) ---


class BlockingCallError(BoundaryError, RuntimeError):
    """A blocking call or a slow synchronous step ran on the event loop thread.

    Raised by the guard in ``strict`` mode.  ``detection`` is the structured
    record behind the message (what blocked, where, the route, the layer).
    """

    def __init__(
        self, message: str, violations: Iterable[Violation] = (), *, detection: object = None
    ) -> None:
        super().__init__(message, violations)
        self.detection = detection


BlockingCallError.__module__ = "fastapi_boundary"


# --- worker queues (see _queue/) ---


class QueueTargetError(OffloadError):
    """A function that cannot be a queued task (async def, lambda, closure, method ...)."""


class QueueEncodingError(OffloadError):
    """An argument of a queued call that the queue's serializer (JSON by default) cannot encode."""


class QueueUnavailableError(BoundaryError, ConnectionError):
    """The broker or the result backend of a worker queue cannot be reached.

    Raised at once (after the client's short retries), never after a hang; a
    later call connects again, so the app recovers when the broker is back.
    """


for _public in (QueueTargetError, QueueEncodingError, QueueUnavailableError):
    _public.__module__ = "fastapi_boundary"
