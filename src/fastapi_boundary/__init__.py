"""fastapi-boundary: declared sync/async layers for FastAPI, checked at import time."""

from .__about__ import __version__
from ._config import CheckMode, configure
from ._errors import (
    AppLoadError,
    BoundaryError,
    BoundaryViolationsError,
    BoundaryWarning,
    LayerDeclarationError,
    LayerDependencyError,
    ModeMismatchError,
    RouteModeError,
)
from ._install import install
from ._layer_info import LayerInfo
from ._layers import AsyncRepository, AsyncService, SyncRepository, SyncService, layer, pure
from ._modes import CallableShape, Mode, Shape, shape_of
from ._report import AppReport, DependencyNode, RouteReport
from ._sites import Site
from ._violations import Party, Rule, Violation
from .routing import AsyncRouter, SyncRouter, check_app

__all__ = [
    "AppLoadError",
    "AppReport",
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
    "Mode",
    "ModeMismatchError",
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
    "check_app",
    "configure",
    "install",
    "layer",
    "pure",
    "shape_of",
]
