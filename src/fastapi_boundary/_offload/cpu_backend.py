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

__all__ = ["CpuBackend"]

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
