"""The plugin's error codes, each with the function that words its message.

The fix texts, and the refusals the run time raises too, come from
``_common.fixes``: a mistake reads the same in the editor, at import time and
in the run-time guard.  Names the plugin quotes are mypy's style
(``"ItemService.list"``); names inside a shared text are written as the run
time writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mypy.errorcodes import ErrorCode

from .._common import fixes

__all__ = [
    "ASYNC_FROM_SYNC",
    "BLOCKING_CALL",
    "ENDPOINT_DEPENDENCY",
    "ERROR_CODES",
    "LAYER_DEPENDENCY",
    "LAYER_MODE",
    "MARKER",
    "OFFLOAD",
    "ROUTE_MODE",
]

CATEGORY: Final = "fastapi-boundary"


def _shape(is_async: bool) -> str:
    return "an async def" if is_async else "a plain def"


LAYER_MODE: Final = ErrorCode(
    "boundary-layer-mode", "A layer's public callable is not of the layer's mode", CATEGORY
)


def layer_method_mode(owner: str, name: str, is_async: bool, mode: str, kind: str) -> str:
    """R2: public method ``name`` of layer ``owner`` (a ``mode`` ``kind``) is of the other mode."""
    return (
        f'"{owner}.{name}" is {_shape(is_async)} but {owner} is {fixes.a(f"{mode} {kind}")}; '
        f"{fixes.layer_method_fix(name, mode, kind)}"
    )


def layer_function_mode(name: str, mode: str, kind: str, is_async: bool) -> str:
    """R2: ``@layer(mode)`` on a function of the other mode."""
    actual = "async" if is_async else "sync"
    return (
        f'"{name}" is declared {fixes.a(f"{mode} {kind}")} but is {_shape(is_async)}; '
        f"{fixes.layer_function_fix(name, mode, actual)}"
    )


MARKER: Final = ErrorCode("boundary-marker", "@blocking or @cpu_bound on an async def", CATEGORY)


def blocking_on_async(name: str) -> str:
    """``@blocking`` on an ``async def``."""
    return fixes.marker_on_async(name)


def cpu_bound_refused(name: str, problem: tuple[str, str]) -> str:
    """``@cpu_bound`` on what a worker process could not run: ``problem`` is (reason, fix)."""
    return fixes.cannot_mark(name, *problem)


LAYER_DEPENDENCY: Final = ErrorCode(
    "boundary-layer-dependency", "A layer takes a layer of the other mode", CATEGORY
)


def layer_dependency(
    owner: str, mode: str, kind: str, other: str, other_mode: str, other_kind: str, via: str
) -> str:
    """R3: layer ``owner`` takes layer ``other``, of the other mode, through ``via``."""
    return (
        f'{owner} ({mode} {kind}) takes "{other}" ({other_mode} {other_kind}) through {via}; '
        f"{fixes.layer_dependency_fix(owner, mode, kind, other, other_mode, other_kind)}"
    )


ENDPOINT_DEPENDENCY: Final = ErrorCode(
    "boundary-endpoint-dependency", "An endpoint depends on a layer of the other mode", CATEGORY
)


def endpoint_dependency(
    name: str, mode: str, other: str, other_mode: str, other_kind: str, parameter: str
) -> str:
    """R3: endpoint ``name`` takes layer ``other``, of the other mode, as ``parameter``."""
    return (
        f'endpoint "{name}" ({mode}) depends on "{other}" ({other_mode} {other_kind}) through '
        f'parameter "{parameter}"; {fixes.endpoint_dependency_fix(name, mode, other, other_kind)}'
    )


ROUTE_MODE: Final = ErrorCode(
    "boundary-route-mode", "An endpoint added to a router of the other mode", CATEGORY
)


def route_mode(name: str, is_async: bool, router: str, router_mode: str, *, websocket: bool) -> str:
    """R2: endpoint ``name`` added to ``router``, of the other mode."""
    return (
        f'endpoint "{name}" is {_shape(is_async)} but its router is {fixes.a(router)} '
        f"({router_mode}); {fixes.endpoint_mode_fix(name, router_mode, websocket=websocket)}"
    )


BLOCKING_CALL: Final = ErrorCode(
    "boundary-blocking-call", "A blocking call inside async def", CATEGORY
)


def _way_out(fix: str, caller: str, can_be_def: bool) -> str:
    """The fix, and making the caller a ``def`` when that is allowed (not in an async layer)."""
    return fixes.blocking_call_fix(fix, caller) if can_be_def else fix


def blocking_marked(caller: str, callee: str, marker: str, *, can_be_def: bool) -> str:
    """``caller`` (an ``async def``) calls ``callee``, marked ``@blocking``/``@cpu_bound``."""
    fix = _way_out(fixes.offload_marked(marker, callee), caller, can_be_def)
    return f'"{caller}" (async) calls "{callee}", marked {marker}, on the event loop; {fix}'


def blocking_layer_call(
    caller: str, owner: str, method: str, role: str, receiver: str, *, can_be_def: bool
) -> str:
    """``caller`` (an ``async def``) calls ``method`` of ``receiver``, a sync layer ``owner``."""
    fix = _way_out(fixes.sync_layer_call_fix(receiver, method), caller, can_be_def)
    return f'"{caller}" (async) calls blocking "{owner}.{method}" of {role} {owner}; {fix}'


def blocking_catalog_call(caller: str, name: str, category: str, fix: str) -> str:
    """``caller`` (an ``async def``) calls ``name``, in the blocking catalogue; ``fix`` is its."""
    return f'"{caller}" (async) calls blocking "{name}" ({category}) on the event loop; {fix}'


def blocking_chain(
    caller: str, callee: str, chain: str, offload: str, *, cpu: bool, can_be_def: bool
) -> str:
    """``caller`` (an ``async def``) calls ``callee``, a sync function that blocks.

    ``chain`` runs from the call in ``caller`` to the blocking call, each
    function at the line of its call (``handler (app.py:9) → save (db.py:4)
    → ...Session.commit (db)``); ``offload`` is the callee as the fix writes
    it (``self.repo.save``), handed to a thread (or, ``cpu``, a process).
    """
    marker = "@cpu_bound" if cpu else "@blocking"
    fix = _way_out(fixes.offload_marked(marker, offload), caller, can_be_def)
    return f'"{caller}" (async) calls "{callee}", which blocks: {chain}; {fix}'


ASYNC_FROM_SYNC: Final = ErrorCode(
    "boundary-async-from-sync", "An async layer's method called from sync code", CATEGORY
)


def async_from_sync(caller: str, where: str, owner: str, method: str, role: str, kind: str) -> str:
    """Sync ``caller`` (in ``where``) calls async ``method`` of ``owner``, a ``role``."""
    return fixes.async_from_sync(caller, where, f"{owner}.{method}", f"{role} {owner}", kind)


OFFLOAD: Final = ErrorCode("boundary-offload", "An async def handed to a thread offload", CATEGORY)


def offload_given_async(offload: str, name: str, kind: str, *, process: bool) -> str:
    """``offload(name)`` where ``name`` is ``kind`` (async): the worker would never run it."""
    return fixes.offload_given_async(offload, name, "", kind, process=process)


def proxy_given_async(owner: str, name: str) -> str:
    """``to_async(obj).name`` where ``name`` is an async method of ``owner``."""
    return fixes.proxy_given_async_method(f"{owner}.{name}")


#: Every code the plugin reports, by name (the ``disable`` key takes these names).
ERROR_CODES: Final[Mapping[str, ErrorCode]] = {
    code.code: code
    for code in (
        LAYER_MODE,
        MARKER,
        LAYER_DEPENDENCY,
        ENDPOINT_DEPENDENCY,
        ROUTE_MODE,
        BLOCKING_CALL,
        ASYNC_FROM_SYNC,
        OFFLOAD,
    )
}
