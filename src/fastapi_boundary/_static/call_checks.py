"""Call sites: blocking calls in ``async def``, async layers called from sync code, offloads.

A call belongs to the innermost function around it, a lambda or nested
``def`` included: work handed to an offload is never flagged.  A call of the
project's own sync function is blocking when that function's effect says so
(``effects``): the message shows the chain down to the blocking call.
"""

from __future__ import annotations

from mypy.nodes import (
    FUNC_NO_INFO,
    CallExpr,
    Context,
    FuncItem,
    MemberExpr,
    MypyFile,
    RefExpr,
    SymbolNode,
    TypeInfo,
    Var,
)
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import CallableType, Instance, ProperType, Type, TypeType, get_proper_type

from .._common.catalog import BlockingEntry
from . import compat, errors, fullnames
from .compat import Checker
from .effects import Hop, callee_function
from .endpoint_checks import is_endpoint
from .nodes import (
    async_kind,
    function_label,
    instances,
    is_async,
    layer_mode,
    marker_of,
    owner_mode,
)
from .nodes import source_text as text
from .state import BuildState

__all__ = ["check_inferred", "on_call", "on_offload"]


def on_call(
    state: BuildState,
    ctx: FunctionContext | MethodContext,
    fullname: str,
    receiver: ProperType | None,
    kind: str,
) -> None:
    """A call the plugin watches: ``kind`` is ``catalog``, ``layer``, ``marker`` or ``effect``."""
    api = compat.checker(ctx.api)
    if api is None:
        return
    if state.summaries is not None:
        # the module's bodies are in memory now: its effects are stored before mypy writes it
        tree = compat.module_tree(api)
        state.summaries.ensure(tree)
        check_inferred(state, api, tree)
    function = compat.current_function(api)
    if function is None:
        return
    call = ctx.context
    if function.is_coroutine:
        first = ctx.arg_types[0][0] if ctx.arg_types and ctx.arg_types[0] else None
        _check_blocking(state, api, function, call, fullname, receiver, kind, first)
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
    first: Type | None,
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
    hit = None
    if kind == "catalog":
        if isinstance(receiver, Instance):
            hit = state.catalog_hit(receiver.type, method)
        elif receiver is None:
            hit = _function_hit(state, fullname, first)
    if hit is not None:
        entry, name = hit
        message = errors.blocking_catalog_call(caller, name, entry.category, entry.fix)
        state.fail(api, message, call, errors.BLOCKING_CALL)
        return
    if kind in ("effect", "marker"):
        _check_effect(state, api, function, call, fullname, receiver, can_be_def=can_be_def)


def check_inferred(state: BuildState, api: Checker, tree: MypyFile) -> None:
    """Blocking calls on parameters typed by their ``Depends(provider)`` only (mypy: ``Any``).

    mypy runs no hook for them, so the module's async functions are walked once, the
    first time a hook runs in the module (see `effect_walk.EffectWalk.inferred_calls`).
    """
    if state.summaries is None:
        return
    for function, calls in state.summaries.inferred_calls_once(tree):
        caller = function_label(function)
        owner = owner_mode(function)
        can_be_def = owner is None or owner[1].mode != "async"
        for call, receiver, found in calls:
            method = call.callee.name if isinstance(call.callee, MemberExpr) else ""
            hit = next(
                (
                    found_hit
                    for instance in instances(receiver)
                    if (found_hit := state.catalog_hit(instance.type, method)) is not None
                ),
                None,
            )
            if hit is not None:
                entry, name = hit
                message = errors.blocking_catalog_call(caller, name, entry.category, entry.fix)
                state.fail(api, message, call, errors.BLOCKING_CALL)
            elif found.callee is not None:
                node = next(
                    (
                        member.node
                        for instance in instances(receiver)
                        if (member := instance.type.get(method)) is not None
                    ),
                    None,
                )
                _report_effect(state, api, function, call, node, can_be_def=can_be_def)


def _function_hit(
    state: BuildState, fullname: str, first: Type | None
) -> tuple[BlockingEntry, str] | None:
    """The catalogue entry a call of function (or class) ``fullname`` hits, and its name."""
    entry = state.catalog_entry(fullname)
    if entry is not None:
        return entry, entry.name
    special = fullnames.BLOCKING_WITH.get(fullname)
    if special is not None:
        for instance in instances(first):
            if instance.type.has_base(special[0]):
                found = state.catalog_entry(special[1])
                if found is not None:
                    return found, f"{fullname}({instance.type.name})"
        return None
    info = state.type_info(fullname)
    return state.catalog_constructor(info) if info is not None else None


def _check_effect(
    state: BuildState,
    api: Checker,
    function: FuncItem,
    call: Context,
    fullname: str,
    receiver: ProperType | None,
    *,
    can_be_def: bool,
) -> None:
    """A call of the project's own sync function (or method, or class) that blocks."""
    if state.summaries is None or not isinstance(call, CallExpr):
        return
    if isinstance(receiver, CallableType) and receiver.is_type_obj():
        receiver = get_proper_type(receiver.ret_type)  # Class.method(...): a class or static method
    elif isinstance(receiver, TypeType):
        receiver = receiver.item
    if isinstance(receiver, Instance):
        member = receiver.type.get(fullname.rpartition(".")[2])
        node = member.node if member is not None else None
    elif receiver is None:
        symbol = state.lookup(fullname) if "." in fullname else None
        node = symbol.node if symbol is not None else None
    else:
        return
    _report_effect(state, api, function, call, node, can_be_def=can_be_def)


def _report_effect(
    state: BuildState,
    api: Checker,
    function: FuncItem,
    call: CallExpr,
    node: SymbolNode | None,
    *,
    can_be_def: bool,
) -> None:
    """``call`` runs the project's sync ``node``: reported with its chain when it blocks."""
    if state.summaries is None:
        return
    effect = state.summaries.effect_of(node)
    callee = callee_function(node)
    if effect is None or callee is None:
        return
    caller = function_label(function)
    here = Hop(caller, compat.module_tree(api).path, call.line)
    chain = " → ".join(str(link) for link in (here, *effect.hops, effect.leaf))
    message = errors.blocking_chain(
        caller,
        node.name if isinstance(node, TypeInfo) else function_label(callee),
        chain,
        text(call.callee),
        # a worker process imports a module-level function; anything else goes to a thread
        cpu=effect.leaf.is_cpu and callee.info is FUNC_NO_INFO,
        can_be_def=can_be_def,
    )
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
