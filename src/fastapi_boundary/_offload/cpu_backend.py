"""Where ``run_cpu`` sends its work: the one seam between the call site and the place it runs.

``await run_cpu(f, x)`` and ``@cpu_bound`` functions never name the place: the
local process pool by default, a worker queue (Celery) when the app is
installed with one (``install(app, processes=CeleryBackend(celery_app))``).
Anything with these two coroutines can be that place, so the call site does
not change between a laptop and a worker fleet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

from .._common.errors import ProcessPoolError

__all__ = ["CpuBackend", "check_cpu_backend", "installed_cpu_backend", "use_cpu_backend"]

P = ParamSpec("P")
T = TypeVar("T")


@runtime_checkable
class CpuBackend(Protocol):
    """A place that runs CPU-bound functions away from the event loop and the web process's GIL."""

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` there and return its result (or raise its exception)."""
        ...

    async def shutdown(self) -> None:
        """Stop what was started for the app (workers, connections); later calls start anew."""
        ...


installed: CpuBackend | None = None
"""The backend `run_cpu` uses; ``None``: the default process pool (read on every call)."""


def check_cpu_backend(backend: object, where: str) -> CpuBackend:
    """``backend`` as a `CpuBackend`, or an error naming ``where`` it was given and what fits."""
    if isinstance(backend, type) or not isinstance(backend, CpuBackend):
        raise ProcessPoolError(
            f"{where} takes a number of worker processes or a CpuBackend instance (an object "
            f"with async run(func, /, *args, **kwargs) and async shutdown()); got "
            f"{type(backend).__name__} {backend!r}. Fix: pass processes=4, a ProcessPool(4, "
            f"timeout=...), or an instance of your backend class."
        )
    return backend


def use_cpu_backend(backend: CpuBackend | None) -> CpuBackend | None:
    """Send `run_cpu` calls to ``backend`` (``None``: the default process pool).

    Returns the backend used before, so a caller can put it back.
    `install` calls it at the app's start and end.
    """
    global installed
    if backend is not None:
        check_cpu_backend(backend, "use_cpu_backend(...)")
    previous, installed = installed, backend
    return previous


def installed_cpu_backend() -> CpuBackend:
    """The backend `run_cpu` uses now: the one installed, else the default process pool."""
    if installed is not None:
        return installed
    from .process_pool import default_process_pool  # the pool imports this module

    return default_process_pool()
