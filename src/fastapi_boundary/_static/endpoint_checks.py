"""Endpoints, seen where ``@router.get(...)`` makes the router visible.

The endpoint's mode against its router's (a ``SyncRouter``/``AsyncRouter``),
and against its parameters' layers (R2, R3 for routes).
"""

from __future__ import annotations

from mypy.nodes import CallExpr, Context, Decorator, FuncItem, MemberExpr, RefExpr, Var
from mypy.plugin import MethodContext
from mypy.types import CallableType, Instance, ProperType, Type

from . import compat, errors, fullnames
from .compat import Checker
from .nodes import instances, is_async, layer_mode
from .state import BuildState

__all__ = ["is_endpoint", "on_route_decorator"]


def on_route_decorator(state: BuildState, ctx: MethodContext) -> Type:
    """``@router.get(...)``: the endpoint's mode against the router's and its dependencies."""
    api = compat.checker(ctx.api)
    if api is not None:
        if state.summaries is not None:
            # a module whose only blocking calls are on Depends-typed parameters (mypy: Any)
            # runs no call hook: its async functions are walked here, once
            from .call_checks import check_inferred  # call_checks imports this module

            tree = compat.module_tree(api)
            state.summaries.ensure(tree)
            check_inferred(state, api, tree)
        decorator = state.decorator_of(api, ctx.context)
        if decorator is not None:
            _check_endpoint(state, api, ctx.type, decorator, ctx.context)
    return ctx.default_return_type


def _check_endpoint(
    state: BuildState, api: Checker, router: ProperType, decorator: Decorator, call: Context
) -> None:
    function = decorator.func
    async_def = is_async(function)
    mode = "async" if async_def else "sync"
    name = function.name
    router_mode = None
    router_name = ""
    if isinstance(router, Instance):
        router_name = router.type.name
        for base, declared in fullnames.ROUTERS.items():
            if router.type.has_base(base):
                router_mode = declared
    websocket = (
        isinstance(call, CallExpr)
        and isinstance(call.callee, MemberExpr)
        and (call.callee.name in fullnames.WEBSOCKET_METHODS)
    )
    if router_mode is not None and router_mode != mode:
        message = errors.route_mode(name, async_def, router_name, router_mode, websocket=websocket)
        state.fail(api, message, function, errors.ROUTE_MODE)
    typ = function.type
    if not isinstance(typ, CallableType):
        return
    for param, param_type in zip(function.arg_names, typ.arg_types, strict=False):
        for instance in instances(param_type):
            other = layer_mode(instance.type)
            if other is None or other.mode == mode:
                continue
            message = errors.endpoint_dependency(
                name, mode, instance.type.name, other.mode, other.kind, str(param)
            )
            state.fail(api, message, function, errors.ENDPOINT_DEPENDENCY)


def is_endpoint(state: BuildState, api: Checker, function: FuncItem) -> bool:
    """Whether ``function`` is decorated with ``@<router or app>.<route method>(...)``."""
    decorator = state.index(api).by_function.get(id(function))
    if decorator is None:
        return False
    for expression in decorator.original_decorators:
        if not (isinstance(expression, CallExpr) and isinstance(expression.callee, MemberExpr)):
            continue
        if expression.callee.name not in fullnames.ROUTE_METHODS:
            continue
        base = expression.callee.expr
        node = base.node if isinstance(base, RefExpr) else None
        typ = node.type if isinstance(node, Var) else None
        for instance in instances(typ):
            if any(instance.type.has_base(name) for name in fullnames.ROUTER_BASES):
                return True
    return False
