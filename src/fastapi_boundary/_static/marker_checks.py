"""``@blocking`` and ``@cpu_bound``: what they refuse, and the marker they put in the type.

The marked function's type gets a fallback from ``marker_types``, so the
marker follows it through aliases, attributes and mypy's cache; call sites
(``call_checks``) read it back.
"""

from __future__ import annotations

from mypy.nodes import ARG_POS, CallExpr, Decorator, FuncDef
from mypy.plugin import FunctionContext
from mypy.types import AnyType, CallableType, Instance, Type, TypeOfAny, get_proper_type

from .._common import fixes
from . import compat, errors, fullnames
from .compat import Checker
from .nodes import decorator_name, is_async
from .state import BuildState

__all__ = ["on_marker_decorator"]


def on_marker_decorator(state: BuildState, ctx: FunctionContext) -> Type:
    """``@blocking``/``@cpu_bound``: refuse an async def, carry the marker in the type.

    Bare, the hook sees the decorator applied to the function (its context
    is the ``Decorator``); as a factory (``@blocking(limiter=...)``) it sees
    the factory call, and returns a callable that gives the marked type.
    """
    default = ctx.default_return_type
    api = compat.checker(ctx.api)
    if api is None:
        return default
    context = ctx.context
    if isinstance(context, Decorator):
        decorator: Decorator | None = context
        marker = next(
            (
                decorator_name(d)
                for d in context.original_decorators
                if decorator_name(d) in fullnames.MARKER_TYPES
            ),
            fullnames.BLOCKING,
        )
    elif isinstance(context, CallExpr):
        marker = decorator_name(context)
        if ctx.callee_arg_names[:1] == ["func"] and ctx.args[0]:
            return _marked(state, api, default, marker)  # blocking(func): a plain call
        decorator = state.decorator_of(api, context)
    else:
        return default
    if decorator is None:
        return default
    function = decorator.func
    if is_async(function):
        if marker == fullnames.BLOCKING:
            message = errors.blocking_on_async(function.name)
        else:
            kind = "an async generator" if function.is_async_generator else "an async def"
            message = errors.cpu_bound_refused(function.name, fixes.process_target_async(kind))
        state.fail(api, message, function, errors.MARKER)
    elif marker == fullnames.CPU_BOUND:
        _check_process_target(state, api, function)
    if isinstance(context, Decorator):
        return _marked(state, api, default, marker)
    # The factory form: when it is the innermost decorator, the function's own
    # type is what it receives, so its result can carry the marker.
    signature = function.type
    if decorator.original_decorators[-1] is context and isinstance(signature, CallableType):
        return CallableType(
            [AnyType(TypeOfAny.implementation_artifact)],
            [ARG_POS],
            [None],
            _marked(state, api, signature, marker),
            api.named_generic_type("builtins.function", []),
        )
    return default


def _check_process_target(state: BuildState, api: Checker, function: FuncDef) -> None:
    """What ``@cpu_bound`` refuses at decoration and the types show: closures, generators."""
    outer = compat.current_function(api)
    if outer is not None:
        problem = fixes.process_target_nested(outer.name)
    elif function.is_generator:
        problem = fixes.process_target_generator()
    else:
        return
    state.fail(api, errors.cpu_bound_refused(function.name, problem), function, errors.MARKER)


def _marked(state: BuildState, api: Checker, typ: Type, marker: str) -> Type:
    """``typ`` with the marker's fallback, when it is a plain function type."""
    proper = get_proper_type(typ)
    marker_type = fullnames.MARKER_TYPES.get(marker)
    if marker_type is None or not isinstance(proper, CallableType):
        return typ
    if proper.is_type_obj() or proper.fallback.type.fullname != "builtins.function":
        return typ
    info = state.type_info(marker_type)
    if info is None:
        return typ
    return proper.copy_modified(fallback=Instance(info, []))
