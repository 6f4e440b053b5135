"""Call sites: blocking calls in ``async def``, async layers called from sync code, offloads.

A call belongs to the innermost function around it, a lambda or nested
``def`` included: work handed to an offload is never flagged.
"""

from __future__ import annotations

from mypy.nodes import CallExpr, Context, FuncItem, MemberExpr, RefExpr, Var
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Instance, ProperType, Type, get_proper_type

from . import compat, errors, fullnames
from .compat import Checker
from .endpoint_checks import is_endpoint
from .nodes import async_kind, function_label, is_async, layer_mode, marker_of, owner_mode
from .nodes import source_text as text
from .state import BuildState

__all__ = ["on_call", "on_offload"]


def on_call(
    state: BuildState,
    ctx: FunctionContext | MethodContext,
    fullname: str,
    receiver: ProperType | None,
    kind: str,
) -> None:
    """A call the plugin watches: ``kind`` is ``catalog``, ``layer`` or ``marker``."""
    api = compat.checker(ctx.api)
    if api is None:
        return
    function = compat.current_function(api)
    if function is None:
        return
    call = ctx.context
    if function.is_coroutine:
        _check_blocking(state, api, function, call, fullname, receiver, kind)
    elif kind == "layer" and isinstance(receiver, Instance):
        _check_async_from_sync(state, api, function, call, fullname, receiver)


def _callee_type(api: Checker, call: Context) -> Type | None:
    return compat.expression_type(api, call.callee) if isinstance(call, CallExpr) else None


def _check_blocking(
    state: BuildState,
    api: Checker,
    function: FuncItem,
    call: Context,
    fullname: str,
    receiver: ProperType | None,
    kind: str,
) -> None:
    caller = function_label(function)
    owner = owner_mode(function)
    can_be_def = owner is None or owner[1].mode != "async"  # an async layer's method stays async
    callee_text = text(call.callee) if isinstance(call, CallExpr) else fullname
    marker = marker_of(_callee_type(api, call))
    if marker is not None:
        message = errors.blocking_marked(caller, callee_text, marker, can_be_def=can_be_def)
        state.fail(api, message, call, errors.BLOCKING_CALL)
        return
    method = fullname.rpartition(".")[2]
    if kind == "layer" and isinstance(receiver, Instance):
        mode = layer_mode(receiver.type)
        if mode is None or mode.mode != "sync":
            return
        target = receiver.type.get(method)
        if target is not None and isinstance(target.node, Var) and target.node.is_property:
            return
        owner_name = receiver.type.name
        receiver_text = (
            text(call.callee.expr)
            if isinstance(call, CallExpr) and isinstance(call.callee, MemberExpr)
            else owner_name
        )
        message = errors.blocking_layer_call(
            caller, owner_name, method, mode.role, receiver_text, can_be_def=can_be_def
        )
        state.fail(api, message, call, errors.BLOCKING_CALL)
        return
    entry = None
    if kind == "catalog":
        if isinstance(receiver, Instance):
            entry = state.catalog_method(receiver.type, method)
        elif receiver is None:
            entry = state.catalog_entry(fullname)
    if entry is not None:
        message = errors.blocking_catalog_call(caller, entry.name, entry.category, entry.fix)
        state.fail(api, message, call, errors.BLOCKING_CALL)


def _check_async_from_sync(
    state: BuildState,
    api: Checker,
    function: FuncItem,
    call: Context,
    fullname: str,
    receiver: Instance,
) -> None:
    mode = layer_mode(receiver.type)
    if mode is None or mode.mode != "async":
        return
    method = fullname.rpartition(".")[2]
    target = receiver.type.get(method)
    if target is None or not is_async(target.node):
        return
    where = None
    owner = owner_mode(function)
    if owner is not None and owner[1].mode == "sync":
        where = f"{owner[1].role} {owner[0].name}"
    if where is None and is_endpoint(state, api, function):
        where = "def endpoint"
    if where is None:
        return
    message = errors.async_from_sync(
        function_label(function), where, receiver.type.name, method, mode.role, mode.kind
    )
    state.fail(api, message, call, errors.ASYNC_FROM_SYNC)


def on_offload(state: BuildState, ctx: FunctionContext, fullname: str) -> Type:
    """An ``async def`` handed to an offload never runs."""
    api = compat.checker(ctx.api)
    if api is not None and ctx.args and ctx.args[0] and isinstance(ctx.context, CallExpr):
        target = ctx.args[0][0]
        found = compat.expression_type(api, target)
        typ = get_proper_type(found) if found is not None else None
        node = target.node if isinstance(target, RefExpr) else None
        kind = async_kind(node, typ)
        if kind is not None:
            message = errors.offload_given_async(
                text(ctx.context.callee),
                text(target),
                kind,
                process=fullname in fullnames.PROCESS_OFFLOADS,
            )
            state.fail(api, message, target, errors.OFFLOAD)
    return ctx.default_return_type
