"""The mypy plugin: the boundary rules checked statically, with types.

Enable it with ``plugins = fastapi_boundary.mypy``.  It reports, each under
its own error code (see `ERROR_CODES`):

- mode of definitions: an ``async def`` in a sync layer, a public ``def`` in
  an async layer, ``@blocking``/``@cpu_bound`` on an ``async def``, a layer
  whose constructor or annotated attributes take a layer of the other mode,
  an endpoint whose dependencies are layers of the other mode, an endpoint on
  a ``SyncRouter``/``AsyncRouter`` of the other mode;
- blocking calls inside ``async def``: sync-layer methods, ``@blocking`` and
  ``@cpu_bound`` callables (the marker rides in the type, so aliases and
  attributes are caught) and the blocking catalogue, resolved by type, and
  the project's own sync functions, methods and constructors that reach one
  (the message shows the chain; see ``_static.effects``);
- async-layer methods called from a sync layer or a ``def`` endpoint;
- ``async def`` handed to a thread offload;

and types ``to_async(service).method(...)`` exactly.  mypy has no hook on a
function definition, so rules about a ``def`` ride on class hooks, decorator
calls and call sites; a call inside a lambda or nested ``def`` belongs to that
(sync) function, so offloaded work is never flagged.
"""

from __future__ import annotations

from mypy.plugin import Plugin

from ._static.config import CONFIG_SECTION, PluginConfig, load_config
from ._static.errors import (
    ASYNC_FROM_SYNC,
    BLOCKING_CALL,
    ENDPOINT_DEPENDENCY,
    ERROR_CODES,
    LAYER_DEPENDENCY,
    LAYER_MODE,
    MARKER,
    OFFLOAD,
    ROUTE_MODE,
)
from ._static.nodes import LayerMode, layer_mode
from ._static.plugin import BoundaryPlugin

__all__ = [
    "ASYNC_FROM_SYNC",
    "BLOCKING_CALL",
    "CONFIG_SECTION",
    "ENDPOINT_DEPENDENCY",
    "ERROR_CODES",
    "LAYER_DEPENDENCY",
    "LAYER_MODE",
    "MARKER",
    "OFFLOAD",
    "ROUTE_MODE",
    "BoundaryPlugin",
    "LayerMode",
    "PluginConfig",
    "layer_mode",
    "load_config",
    "plugin",
]


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: ``plugins = fastapi_boundary.mypy``."""
    return BoundaryPlugin
