"""Every fullname the mypy plugin looks for, in one place.

mypy names a definition by where it is *defined* (``fastapi_boundary._audit.layers.layer``,
not the re-export ``fastapi_boundary.layer``), so moving a private module
changes what the plugin must look for.  ``tests/static/test_fullnames.py``
resolves every dotted name of this module at run time: a rename that would
blind the plugin silently fails that test instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

LIB: Final = "fastapi_boundary"

#: The layer base classes, as (mode, kind).
LAYER_BASES: Final[Mapping[str, tuple[str, str]]] = {
    f"{LIB}._audit.layers.SyncRepository": ("sync", "repository"),
    f"{LIB}._audit.layers.AsyncRepository": ("async", "repository"),
    f"{LIB}._audit.layers.SyncService": ("sync", "service"),
    f"{LIB}._audit.layers.AsyncService": ("async", "service"),
}
LAYER: Final = f"{LIB}._audit.layers.layer"
PURE: Final = f"{LIB}._audit.layers.pure"

BLOCKING: Final = f"{LIB}._offload.threads.blocking"
CPU_BOUND: Final = f"{LIB}._offload.process_targets.cpu_bound"
RUN_BLOCKING: Final = f"{LIB}._offload.threads.run_blocking"
RUN_CPU: Final = f"{LIB}._offload.process_pool.run_cpu"
ASYNC_PROXY: Final = f"{LIB}._offload.proxy.AsyncProxy"

#: The module of the types the plugin gives to marked functions (they exist for mypy only).
MARKER_MODULE: Final = f"{LIB}._static.marker_types"
BLOCKING_FUNCTION: Final = f"{MARKER_MODULE}.BlockingFunction"
CPU_BOUND_FUNCTION: Final = f"{MARKER_MODULE}.CpuBoundFunction"

#: Marker decorator -> the type a function it marks gets.
MARKER_TYPES: Final[Mapping[str, str]] = {
    BLOCKING: BLOCKING_FUNCTION,
    CPU_BOUND: CPU_BOUND_FUNCTION,
}
#: Marker type -> the decorator, as messages write it.
MARKED_AS: Final[Mapping[str, str]] = {
    BLOCKING_FUNCTION: "@blocking",
    CPU_BOUND_FUNCTION: "@cpu_bound",
}
#: The modules defining the markers: wherever they are imported, the marker types must be too.
MARKER_HOSTS: Final = frozenset(name.rpartition(".")[0] for name in MARKER_TYPES)

#: The declared routers, with their mode.
ROUTERS: Final[Mapping[str, str]] = {
    f"{LIB}.routing.SyncRouter": "sync",
    f"{LIB}.routing.AsyncRouter": "async",
}
#: What an endpoint is registered on (a router of the library is one of these).
ROUTER_BASES: Final = ("fastapi.routing.APIRouter", "fastapi.applications.FastAPI")
#: Methods of a router that register an endpoint (names, not fullnames).
ROUTE_METHODS: Final = frozenset(
    {"get", "put", "post", "delete", "options", "head", "patch", "trace", "api_route"}
)
WEBSOCKET_METHODS: Final = frozenset({"websocket", "websocket_route"})

#: Offloads that run a sync callable in a thread: an ``async def`` handed to one is a mistake.
THREAD_OFFLOADS: Final = frozenset(
    {
        RUN_BLOCKING,
        "anyio.to_thread.run_sync",
        "starlette.concurrency.run_in_threadpool",
        "asyncio.threads.to_thread",
    }
)
#: Offloads that run a sync callable in a worker process.
PROCESS_OFFLOADS: Final = frozenset({RUN_CPU})

#: Decorators that exempt a public ``def`` of an async layer from the mode check.
EXEMPT_DECORATORS: Final = frozenset(
    {PURE, "builtins.property", "functools.cached_property", "abc.abstractproperty"}
)

#: The key of the plugin's data in ``TypeInfo.metadata`` (it survives mypy's cache).
METADATA_KEY: Final = LIB

#: The name of the plugin's own symbol in each module: the blocking effects of the module's
#: sync functions, in its ``TypeInfo.metadata`` (written to mypy's cache with the module).
EFFECTS_SYMBOL: Final = "__boundary_effects__"

#: Calls that block only when their first argument is of a given class:
#: callee -> (that class, the catalogue entry of what then blocks).
BLOCKING_WITH: Final[Mapping[str, tuple[str, str]]] = {
    # inspect(engine) connects to build an Inspector; inspect(Model) or inspect(obj) does not
    "sqlalchemy.inspection.inspect": (
        "sqlalchemy.engine.base.Engine",
        "sqlalchemy.engine.reflection.Inspector._init_engine",
    ),
}
