"""Introspection: how the library classifies callables and reads declarations.

Not needed to use the library; useful to write tooling on top of it (a custom
report, a linter rule, a test helper) that agrees with what the audit decides.
"""

from ._common.declarations import LayerInfo, declared_layer
from ._common.errors import RemoteTraceback
from ._common.modes import CallableShape, Shape, shape_of

__all__ = ["CallableShape", "LayerInfo", "RemoteTraceback", "Shape", "declared_layer", "shape_of"]
