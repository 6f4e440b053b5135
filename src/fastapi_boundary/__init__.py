"""fastapi-boundary: declared sync/async layers for FastAPI, checked at import time.

Every public name is imported on first use (PEP 562): ``import fastapi_boundary``
costs nothing, so the pytest plugin (loaded in every test run where the package
is installed) and the mypy plugin do not import FastAPI or anyio until they are
asked to do something.

The ``TYPE_CHECKING`` block below is the one list of what is public and where it
lives; ``_EXPORTS`` is the same list for the lazy loader, and a test checks that
the two (and ``__all__``) agree.  Each public class and function reports
``fastapi_boundary`` as its ``__module__``, as the exceptions always did.
Introspection helpers (`Shape`, `shape_of`, `LayerInfo` ...) live in
`fastapi_boundary.introspection`.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .__about__ import __version__

__all__ = [
    "Adoption",
    "AppLoadError",
    "AppReport",
    "AsyncProxy",
    "AsyncRepository",
    "AsyncRouter",
    "AsyncService",
    "BlockingCallError",
    "BoundaryConfig",
    "BoundaryError",
    "BoundaryMonitorMiddleware",
    "BoundaryViolationsError",
    "BoundaryWarning",
    "CeleryBackend",
    "CheckMode",
    "DependencyNode",
    "Detection",
    "Exemption",
    "LayerDeclarationError",
    "LayerDependencyError",
    "Limiter",
    "LimiterError",
    "LimiterStatistics",
    "Metric",
    "Mode",
    "ModeMismatchError",
    "MonitorConfig",
    "OffloadError",
    "OffloadTimeoutError",
    "Party",
    "Policy",
    "ProcessPicklingError",
    "ProcessPool",
    "ProcessPoolError",
    "ProcessPoolStatistics",
    "ProcessTargetError",
    "QueueEncodingError",
    "QueueTargetError",
    "QueueUnavailableError",
    "Recorder",
    "RouteModeError",
    "RouteReport",
    "Rule",
    "Site",
    "Suppression",
    "SyncRepository",
    "SyncRouter",
    "SyncService",
    "Violation",
    "WorkerCrashedError",
    "__version__",
    "allow",
    "blocking",
    "check_app",
    "check_cancelled",
    "configure",
    "cpu_bound",
    "default_process_pool",
    "disable_guard",
    "enable_guard",
    "enqueue",
    "guarded",
    "install",
    "is_cpu_bound",
    "layer",
    "limiter_statistics",
    "load_config",
    "offload_dependency",
    "pure",
    "queued",
    "queued_result",
    "run_blocking",
    "run_cpu",
    "run_queued",
    "suppress_rule",
    "to_async",
]

if _TYPE_CHECKING:
    from ._audit.adoption import Adoption
    from ._audit.app_check import check_app
    from ._audit.enforcement import (
        CheckMode,
        configure,
    )
    from ._audit.layers import (
        AsyncRepository,
        AsyncService,
        SyncRepository,
        SyncService,
        layer,
        pure,
    )
    from ._audit.report import (
        AppReport,
        DependencyNode,
        RouteReport,
    )
    from ._audit.suppressions import suppress_rule
    from ._common.config import (
        BoundaryConfig,
        Suppression,
        load_config,
    )
    from ._common.errors import (
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
        OffloadTimeoutError,
        ProcessPicklingError,
        ProcessPoolError,
        ProcessTargetError,
        QueueEncodingError,
        QueueTargetError,
        QueueUnavailableError,
        RouteModeError,
        WorkerCrashedError,
    )
    from ._common.modes import Mode
    from ._common.policy import Policy
    from ._common.sites import Site
    from ._common.violations import (
        Party,
        Rule,
        Violation,
    )
    from ._offload.dependencies import offload_dependency
    from ._offload.process_pool import (
        ProcessPool,
        ProcessPoolStatistics,
        default_process_pool,
        run_cpu,
    )
    from ._offload.process_targets import cpu_bound, is_cpu_bound
    from ._offload.proxy import (
        AsyncProxy,
        to_async,
    )
    from ._offload.threads import (
        Limiter,
        LimiterStatistics,
        blocking,
        check_cancelled,
        limiter_statistics,
        run_blocking,
    )
    from ._queue.backend import CeleryBackend
    from ._queue.calls import (
        enqueue,
        queued_result,
        run_queued,
    )
    from ._queue.targets import queued
    from ._runtime.detection import (
        Detection,
        Recorder,
    )
    from ._runtime.exemptions import Exemption
    from ._runtime.guard import (
        allow,
        guarded,
    )
    from ._runtime.guard import disable as disable_guard
    from ._runtime.guard import enable as enable_guard
    from ._runtime.install import install
    from ._runtime.monitor import (
        Metric,
        MonitorConfig,
    )
    from .middleware import BoundaryMonitorMiddleware
    from .routing import (
        AsyncRouter,
        SyncRouter,
    )

# public name -> module that defines it (checked against the block above by a test)
_EXPORTS = {
    "Adoption": "_audit.adoption",
    "AppLoadError": "_common.errors",
    "AppReport": "_audit.report",
    "AsyncProxy": "_offload.proxy",
    "AsyncRepository": "_audit.layers",
    "AsyncRouter": "routing",
    "AsyncService": "_audit.layers",
    "BlockingCallError": "_common.errors",
    "BoundaryConfig": "_common.config",
    "BoundaryError": "_common.errors",
    "BoundaryMonitorMiddleware": "middleware",
    "BoundaryViolationsError": "_common.errors",
    "BoundaryWarning": "_common.errors",
    "CeleryBackend": "_queue.backend",
    "CheckMode": "_audit.enforcement",
    "DependencyNode": "_audit.report",
    "Detection": "_runtime.detection",
    "Exemption": "_runtime.exemptions",
    "LayerDeclarationError": "_common.errors",
    "LayerDependencyError": "_common.errors",
    "Limiter": "_offload.threads",
    "LimiterError": "_common.errors",
    "LimiterStatistics": "_offload.threads",
    "Metric": "_runtime.monitor",
    "Mode": "_common.modes",
    "ModeMismatchError": "_common.errors",
    "MonitorConfig": "_runtime.monitor",
    "OffloadError": "_common.errors",
    "OffloadTimeoutError": "_common.errors",
    "Party": "_common.violations",
    "Policy": "_common.policy",
    "ProcessPicklingError": "_common.errors",
    "ProcessPool": "_offload.process_pool",
    "ProcessPoolError": "_common.errors",
    "ProcessPoolStatistics": "_offload.process_pool",
    "ProcessTargetError": "_common.errors",
    "QueueEncodingError": "_common.errors",
    "QueueTargetError": "_common.errors",
    "QueueUnavailableError": "_common.errors",
    "Recorder": "_runtime.detection",
    "RouteModeError": "_common.errors",
    "RouteReport": "_audit.report",
    "Rule": "_common.violations",
    "Site": "_common.sites",
    "Suppression": "_common.config",
    "SyncRepository": "_audit.layers",
    "SyncRouter": "routing",
    "SyncService": "_audit.layers",
    "Violation": "_common.violations",
    "WorkerCrashedError": "_common.errors",
    "allow": "_runtime.guard",
    "blocking": "_offload.threads",
    "check_app": "_audit.app_check",
    "check_cancelled": "_offload.threads",
    "configure": "_audit.enforcement",
    "cpu_bound": "_offload.process_targets",
    "default_process_pool": "_offload.process_pool",
    "disable_guard": "_runtime.guard",
    "enable_guard": "_runtime.guard",
    "enqueue": "_queue.calls",
    "guarded": "_runtime.guard",
    "install": "_runtime.install",
    "is_cpu_bound": "_offload.process_targets",
    "layer": "_audit.layers",
    "limiter_statistics": "_offload.threads",
    "load_config": "_common.config",
    "offload_dependency": "_offload.dependencies",
    "pure": "_audit.layers",
    "queued": "_queue.targets",
    "queued_result": "_queue.calls",
    "run_blocking": "_offload.threads",
    "run_cpu": "_offload.process_pool",
    "run_queued": "_queue.calls",
    "suppress_rule": "_audit.suppressions",
    "to_async": "_offload.proxy",
}
# public names that differ from the defining module's name for them
_RENAMED = {"enable_guard": "enable", "disable_guard": "disable"}


def __getattr__(name: str) -> _Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'fastapi_boundary' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{module_name}", __name__)
    value = getattr(module, _RENAMED.get(name, name))
    if isinstance(value, type) or (callable(value) and hasattr(value, "__code__")):
        value.__module__ = __name__  # what users import it as: docs, reprs, pickles
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
