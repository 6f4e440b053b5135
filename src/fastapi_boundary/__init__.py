"""fastapi-boundary: declared sync/async layers for FastAPI, checked at import time.

Every public name is imported on first use (PEP 562): ``import fastapi_boundary``
costs nothing, so the pytest plugin (loaded in every test run where the package
is installed) and the mypy plugin do not import FastAPI or anyio until they are
asked to do something.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .__about__ import __version__

__all__ = [
    "AppLoadError",
    "AppReport",
    "AsyncProxy",
    "AsyncRepository",
    "AsyncRouter",
    "AsyncService",
    "BlockingCallError",
    "BoundaryError",
    "BoundaryMonitorMiddleware",
    "BoundaryViolationsError",
    "BoundaryWarning",
    "CallableShape",
    "CheckMode",
    "DependencyNode",
    "Detection",
    "Exemption",
    "LayerDeclarationError",
    "LayerDependencyError",
    "LayerInfo",
    "Limiter",
    "LimiterError",
    "LimiterStatistics",
    "Mode",
    "ModeMismatchError",
    "MonitorConfig",
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
    "disable_guard",
    "enable_guard",
    "guarded",
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

# public name -> private module that defines it
_EXPORTS = {
    "AppLoadError": "_errors",
    "AppReport": "_report",
    "AsyncProxy": "_proxy",
    "AsyncRepository": "_layers",
    "AsyncRouter": "routing",
    "AsyncService": "_layers",
    "BlockingCallError": "_errors",
    "BoundaryError": "_errors",
    "BoundaryMonitorMiddleware": "middleware",
    "BoundaryViolationsError": "_errors",
    "BoundaryWarning": "_errors",
    "CallableShape": "_modes",
    "CheckMode": "_config",
    "DependencyNode": "_report",
    "Detection": "_detection",
    "Exemption": "_baseline",
    "LayerDeclarationError": "_errors",
    "LayerDependencyError": "_errors",
    "LayerInfo": "_layer_info",
    "Limiter": "_threads",
    "LimiterError": "_errors",
    "LimiterStatistics": "_threads",
    "Mode": "_modes",
    "ModeMismatchError": "_errors",
    "MonitorConfig": "_monitor",
    "OffloadError": "_errors",
    "Party": "_violations",
    "ProcessPicklingError": "_errors",
    "ProcessPool": "_processes",
    "ProcessPoolError": "_errors",
    "ProcessPoolStatistics": "_processes",
    "ProcessTargetError": "_errors",
    "RemoteTraceback": "_errors",
    "RouteModeError": "_errors",
    "RouteReport": "_report",
    "Rule": "_violations",
    "Shape": "_modes",
    "Site": "_sites",
    "SyncRepository": "_layers",
    "SyncRouter": "routing",
    "SyncService": "_layers",
    "Violation": "_violations",
    "WorkerCrashedError": "_errors",
    "blocking": "_threads",
    "check_app": "routing",
    "check_cancelled": "_threads",
    "configure": "_config",
    "cpu_bound": "_processes",
    "default_process_pool": "_processes",
    "disable_guard": "_guard",
    "enable_guard": "_guard",
    "guarded": "_guard",
    "install": "_install",
    "is_cpu_bound": "_processes",
    "layer": "_layers",
    "limiter_statistics": "_threads",
    "offload_dependency": "_dependencies",
    "pure": "_layers",
    "run_blocking": "_threads",
    "run_cpu": "_processes",
    "shape_of": "_modes",
    "to_async": "_proxy",
}
# public names that differ from the defining module's name for them
_RENAMED = {"enable_guard": "enable", "disable_guard": "disable"}

if _TYPE_CHECKING:
    from ._baseline import Exemption
    from ._config import (
        CheckMode,
        configure,
    )
    from ._dependencies import offload_dependency
    from ._detection import Detection
    from ._errors import (
        AppLoadError,
        BlockingCallError,
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
    from ._guard import disable as disable_guard
    from ._guard import enable as enable_guard
    from ._guard import guarded
    from ._install import install
    from ._layer_info import LayerInfo
    from ._layers import (
        AsyncRepository,
        AsyncService,
        SyncRepository,
        SyncService,
        layer,
        pure,
    )
    from ._modes import (
        CallableShape,
        Mode,
        Shape,
        shape_of,
    )
    from ._monitor import MonitorConfig
    from ._processes import (
        ProcessPool,
        ProcessPoolStatistics,
        cpu_bound,
        default_process_pool,
        is_cpu_bound,
        run_cpu,
    )
    from ._proxy import (
        AsyncProxy,
        to_async,
    )
    from ._report import (
        AppReport,
        DependencyNode,
        RouteReport,
    )
    from ._sites import Site
    from ._threads import (
        Limiter,
        LimiterStatistics,
        blocking,
        check_cancelled,
        limiter_statistics,
        run_blocking,
    )
    from ._violations import (
        Party,
        Rule,
        Violation,
    )
    from .middleware import BoundaryMonitorMiddleware
    from .routing import (
        AsyncRouter,
        SyncRouter,
        check_app,
    )


def __getattr__(name: str) -> _Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'fastapi_boundary' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{module_name}", __name__)
    value = getattr(module, _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
