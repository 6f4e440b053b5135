"""fastapi-boundary: declared sync/async layers for FastAPI, checked at import time."""

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
    RouteModeError,
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
    "RouteModeError",
    "RouteReport",
    "Rule",
    "Shape",
    "Site",
    "SyncRepository",
    "SyncRouter",
    "SyncService",
    "Violation",
    "__version__",
    "blocking",
    "check_app",
    "check_cancelled",
    "configure",
    "install",
    "layer",
    "limiter_statistics",
    "offload_dependency",
    "pure",
    "run_blocking",
    "shape_of",
    "to_async",
]
