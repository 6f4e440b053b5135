"""fastapi-boundary: declared sync/async layers for FastAPI, checked at import time."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .__about__ import __version__
from ._config import CheckMode, configure
from ._dependencies import offload_dependency
from ._errors import (
    AppLoadError,
    BoundaryError,
    BoundaryViolationsError,
    BoundaryWarning,
    LayerDeclarationError,
    LayerDependencyError,
    LimiterError,
    ModeMismatchError,
    OffloadError,
    ProcessPicklingError,
    ProcessPoolError,
    ProcessTargetError,
    RemoteTraceback,
    RouteModeError,
    WorkerCrashedError,
)
from ._install import install
from ._layer_info import LayerInfo
from ._layers import AsyncRepository, AsyncService, SyncRepository, SyncService, layer, pure
from ._modes import CallableShape, Mode, Shape, shape_of
from ._proxy import AsyncProxy, to_async
from ._report import AppReport, DependencyNode, RouteReport
from ._sites import Site
from ._threads import (
    Limiter,
    LimiterStatistics,
    blocking,
    check_cancelled,
    limiter_statistics,
    run_blocking,
)
from ._violations import Party, Rule, Violation
from .routing import AsyncRouter, SyncRouter, check_app

__all__ = [
    "AppLoadError",
    "AppReport",
    "AsyncProxy",
    "AsyncRepository",
    "AsyncRouter",
    "AsyncService",
    "BoundaryError",
    "BoundaryViolationsError",
    "BoundaryWarning",
    "CallableShape",
    "CheckMode",
    "DependencyNode",
    "LayerDeclarationError",
    "LayerDependencyError",
    "LayerInfo",
    "Limiter",
    "LimiterError",
    "LimiterStatistics",
    "Mode",
    "ModeMismatchError",
    "OffloadError",
    "Party",
    "ProcessPicklingError",
    "ProcessPool",
    "ProcessPoolError",
    "ProcessPoolStatistics",
    "ProcessTargetError",
    "RemoteTraceback",
    "RouteModeError",
    "RouteReport",
    "Rule",
    "Shape",
    "Site",
    "SyncRepository",
    "SyncRouter",
    "SyncService",
    "Violation",
    "WorkerCrashedError",
    "__version__",
    "blocking",
    "check_app",
    "check_cancelled",
    "configure",
    "cpu_bound",
    "default_process_pool",
    "install",
    "is_cpu_bound",
    "layer",
    "limiter_statistics",
    "offload_dependency",
    "pure",
    "run_blocking",
    "run_cpu",
    "shape_of",
    "to_async",
]

# The process pool (subprocess, pickle, pipes) is imported on first use: most apps never
# run CPU work in processes, and importing it costs more than the rest of the package.
_LAZY = frozenset(
    {
        "ProcessPool",
        "ProcessPoolStatistics",
        "cpu_bound",
        "default_process_pool",
        "is_cpu_bound",
        "run_cpu",
    }
)

if _TYPE_CHECKING:
    from ._processes import (
        ProcessPool,
        ProcessPoolStatistics,
        cpu_bound,
        default_process_pool,
        is_cpu_bound,
        run_cpu,
    )


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        from . import _processes

        value = getattr(_processes, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastapi_boundary' has no attribute {name!r}")
