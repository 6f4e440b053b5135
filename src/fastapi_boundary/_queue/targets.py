"""What may be a queued task: ``@queued`` checks a function where it is defined.

A worker imports a task's module and finds the task by name, then calls the
function and never awaits it.  So an ``async def`` (its body would never
run, celery/celery#6552), a lambda, a nested function or closure, a method or
a function of a ``__main__`` script is refused when it is decorated, with
the library's error shape, instead of failing on a worker at the first call.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .._common import fixes
from .._common.errors import OffloadError, QueueTargetError
from .._common.modes import Shape, shape_of
from .._common.sites import Site, caller_site
from .._offload.process_targets import call_text, describe
from .._offload.threads import Limiter
from .celery_api import CeleryApp, CeleryTask

__all__ = ["QueueTarget", "queued", "queued_target", "target_of"]

F = TypeVar("F", bound=Callable[..., Any])

#: The limiter the queue's publishing and waiting threads take by default.  Each call in
#: flight holds a thread while it publishes and waits; these threads run Celery's client code
#: and so compete with the event loop for the GIL: 16, not anyio's 40, keeps the loop's lag
#: low on small machines (benchmarks/bench_queue.py), and 16 calls in flight keep 16 worker
#: processes busy.  A larger fleet takes `limiter=Limiter("celery", size=...)`.
QUEUE_LIMITER = Limiter("fastapi_boundary.queue", size=16, abandon_on_cancel=True)


@dataclass(frozen=True)
class QueueTarget:
    """Where one kind of queued call goes and how long it may take.

    ``display`` is how messages name the call (``run_queued(resize) (app/cpu.py:12)``).
    """

    app: CeleryApp
    task: CeleryTask
    display: str
    queue: str | None
    timeout: float | None
    declared_at: Site
    limiter: Limiter

    @property
    def queue_name(self) -> str:
        """The queue the task is sent to (Celery's default queue unless one was declared)."""
        return self.queue or str(self.app.conf.task_default_queue)

    @property
    def serializer(self) -> str:
        return str(self.task.serializer or self.app.conf.task_serializer)

    def publish_options(self) -> dict[str, Any]:
        return {"queue": self.queue} if self.queue else {}


_targets: weakref.WeakKeyDictionary[Callable[..., Any], QueueTarget] = weakref.WeakKeyDictionary()


def _problem(obj: object) -> tuple[str, str] | None:
    """Why ``obj`` cannot be a queued task, and the fix; ``None`` when it can."""
    if isinstance(obj, functools.partial):
        return (
            "a functools.partial; a worker finds a task by its function's module and name",
            "decorate the function itself and pass the fixed arguments to run_queued(f, x, ...)",
        )
    if inspect.ismethod(obj) or isinstance(obj, (staticmethod, classmethod)):
        return (
            "a method, whose instance or class a worker does not have",
            "make it a module-level function that takes the data it needs as arguments",
        )
    if not inspect.isfunction(obj):
        return (
            f"a {type(obj).__qualname__}, not a function defined with def",
            "decorate a module-level function defined with def",
        )
    shape = shape_of(obj).shape
    if shape in (Shape.COROUTINE_FUNCTION, Shape.ASYNC_GENERATOR_FUNCTION):
        kind = "an async def" if shape is Shape.COROUTINE_FUNCTION else "an async generator"
        return fixes.queue_target_async(kind)
    if shape is Shape.GENERATOR_FUNCTION:
        return (
            "a generator function; the generator it returns cannot be sent back from a worker",
            "return a list (or queue one chunk per task)",
        )
    if obj.__name__ == "<lambda>":
        return (
            "a lambda, which has no name a worker can import",
            "define it with def at module level",
        )
    if "<locals>" in obj.__qualname__:
        outer = obj.__qualname__.rsplit(".<locals>.", 1)[0]
        return fixes.process_target_nested(outer)
    if obj.__module__ == "__main__":
        return (
            "defined in the __main__ script, which a worker cannot import without running it",
            "move it to an importable module (e.g. yourapp/tasks.py) that the worker imports",
        )
    return None


def queued(
    app: CeleryApp,
    /,
    *,
    queue: str | None = None,
    timeout: float | None = None,
    limiter: Limiter | None = None,
    **task_options: Any,
) -> Callable[[F], F]:
    """Make a sync function a Celery task of ``app`` that async code awaits with `run_queued`.

    ``@queued(celery_app, queue="cpu", timeout=30)`` registers the task with
    Celery (other keyword arguments go to ``celery_app.task``: ``acks_late``,
    ``name`` ...) and returns the function itself: called from sync code it
    runs inline.  Raises `QueueTargetError` now for what a worker could not
    import or would not run (an ``async def``, a lambda, a closure, a method).
    """
    declared_at = caller_site()
    if not (hasattr(app, "task") and hasattr(app, "conf")):
        raise QueueTargetError(
            f"@queued takes the Celery app as its first argument; got "
            f"{describe(app) if callable(app) else repr(app)}"
            f"{f' at {declared_at}' if declared_at.known else ''}. "
            f"Fix: write @queued(celery_app) (with parentheses) above the function."
        )
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise QueueTargetError(f"@queued(timeout=...) takes seconds > 0 or None; got {timeout!r}")
    task_options = {"queue": queue, **task_options} if queue else task_options

    def mark(func: F) -> F:
        problem = _problem(func)
        if problem is not None:
            raise QueueTargetError(fixes.queue_task_refused(describe(func), *problem) + ".")
        task: CeleryTask = app.task(**task_options)(func)
        _targets[func] = QueueTarget(
            app,
            task,
            call_text(func, "run_queued"),
            queue,
            float(timeout) if timeout is not None else None,
            declared_at,
            limiter or QUEUE_LIMITER,
        )
        return func

    return mark


def target_of(func: object, offload: str) -> QueueTarget:
    """The queue target of a ``@queued`` function; `OffloadError` naming the fix otherwise."""
    try:
        return _targets[func]  # type: ignore[index]
    except (KeyError, TypeError):
        pass
    if inspect.iscoroutine(func) or inspect.isawaitable(func):
        raise OffloadError(fixes.offload_given_call_result(offload, type(func).__name__) + ".")
    raise OffloadError(
        f"{offload}() was given {describe(func)}, which is not a queued task. Fix: decorate it "
        f"with @queued(celery_app) where it is defined (or, for local worker processes, "
        f"@cpu_bound and await run_cpu(...))."
    )


def queued_target(func: object) -> QueueTarget | None:
    """The queue target of ``func`` if it was decorated with ``@queued``."""
    try:
        return _targets.get(func)  # type: ignore[call-overload, no-any-return]
    except TypeError:
        return None
