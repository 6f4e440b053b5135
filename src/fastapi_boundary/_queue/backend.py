"""`CeleryBackend`: ``run_cpu`` on Celery workers, with no change at the call site.

``install(app, processes=CeleryBackend(celery_app))`` makes every
``await run_cpu(f, x)`` (and every ``@cpu_bound`` function) run on the
app's workers instead of the local process pool.  The functions need no
Celery decorator: one generic task, registered on the Celery app when the
backend is created, imports each function by module and qualified name on
the worker, as the local pool's workers do.  So the worker must import the
module that creates the backend (create it next to the Celery app).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio

from .._common.anyio_compat import run_sync_in_thread
from .._common.sites import caller_site, display_name, site_of
from .._offload.process_targets import target_reference
from .._offload.threads import Limiter
from .calls import dispatch
from .celery_api import CeleryApp, CeleryTask
from .targets import QUEUE_LIMITER, QueueTarget
from .waiting import close

__all__ = ["RUN_CPU_TASK", "CeleryBackend", "call_by_reference"]

P = ParamSpec("P")
T = TypeVar("T")

#: The name of the generic task that runs ``run_cpu``'s functions on a worker.
RUN_CPU_TASK = "fastapi_boundary.run_cpu"


def call_by_reference(module: str, qualname: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """On the worker: import ``module.qualname`` and call it (the generic task's body)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found(*args, **kwargs)


class CeleryBackend:
    """Runs ``run_cpu``'s calls on the workers of a Celery app: a `CpuBackend`.

    ``queue`` is the Celery queue (Celery's default queue if ``None``),
    ``timeout`` the seconds a call may take before it is revoked and raises
    `OffloadTimeoutError`, ``limiter`` the threads that publish and wait.
    Tasks are acknowledged late and requeued when a worker dies while
    running one (``acks_late``, ``reject_on_worker_lost``): a function may
    run twice, so it must be safe to repeat (see docs/queue.md).
    """

    def __init__(
        self,
        app: CeleryApp,
        /,
        *,
        queue: str | None = None,
        timeout: float | None = None,
        limiter: Limiter | None = None,
        acks_late: bool = True,
    ) -> None:
        self.app = app
        self.queue = queue
        self.timeout = timeout
        self.limiter = limiter or QUEUE_LIMITER
        self.declared_at = caller_site()
        options: dict[str, Any] = {"name": RUN_CPU_TASK, "acks_late": acks_late}
        if acks_late:
            options["reject_on_worker_lost"] = True
        if queue:
            options["queue"] = queue
        self.task: CeleryTask = app.task(**options)(call_by_reference)

    def __repr__(self) -> str:
        return f"CeleryBackend({self.app!r}, queue={self.queue!r})"

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` on a worker and return its result (or raise its error)."""
        module, qualname = target_reference(func)  # what a worker cannot import fails here
        site = site_of(func)
        display = f"run_cpu({display_name(func)})" + (f" ({site})" if site.known else "")
        target = QueueTarget(
            self.app,
            self.task,
            display,
            self.queue,
            self.timeout,
            self.declared_at,
            self.limiter,
        )
        send = (module, qualname, list(args), kwargs)
        result: T = await dispatch(target, func, args, kwargs, send, {})
        return result

    async def shutdown(self) -> None:
        """Close the app's broker and result connections (reopened by the next call).

        The workers run on: they belong to the Celery deployment, not to the web app.
        """
        with anyio.CancelScope(shield=True):
            await run_sync_in_thread(close, self.app)
