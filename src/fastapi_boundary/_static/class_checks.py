"""Layers: the mode of their public callables (R2) and of what they take (R3).

Classes are checked in semantic analysis, from the base-class hook (a
subclass of a layer base or of a declared layer), the ``@layer(...)``
class-decorator hook, and, for a class ``[tool.fastapi-boundary.layers]``
declares, the MRO hook mypy calls for every class; the declared mode is
stored in the class's metadata, so it survives mypy's cache.  ``@layer(...)``
on a function is checked where the decorator is applied, in type checking.
"""

from __future__ import annotations

from collections.abc import Iterator

from mypy.nodes import (
    CallExpr,
    Context,
    Decorator,
    FuncDef,
    FuncItem,
    MemberExpr,
    NameExpr,
    OverloadedFuncDef,
    TypeInfo,
    Var,
)
from mypy.plugin import ClassDefContext, FunctionContext
from mypy.types import CallableType, Type, UnboundType

from . import compat, errors, fullnames
from .nodes import LayerMode, declared_mode, decorator_name, instances, is_async, layer_mode
from .state import BuildState

__all__ = ["on_configured_class", "on_layer_class", "on_layer_decorator", "on_layer_function"]

_Site = tuple[str, Type | None, Context]


def on_layer_class(state: BuildState, ctx: ClassDefContext) -> None:
    """A subclass of a layer base (``SyncRepository`` ...) or of a declared layer."""
    info = ctx.cls.info
    found = layer_mode(info)
    if found is not None:
        _declare(state, ctx, info, found)


def on_layer_decorator(state: BuildState, ctx: ClassDefContext) -> bool:
    """``@layer("sync")`` on a class."""
    declared = declared_mode(ctx.reason)
    if declared is not None:
        info = ctx.cls.info
        _declare(state, ctx, info, LayerMode(declared[0], declared[1], info.fullname))
    return True


def on_configured_class(state: BuildState, mode: LayerMode, ctx: ClassDefContext) -> None:
    """A class ``[tool.fastapi-boundary.layers]`` declares (mypy's MRO hook, for every class).

    mypy calls the hook before the class body is analysed, so the first time
    it records the mode and asks for one more pass; the checks run in that
    pass (or in the final one), when the methods and attributes exist.  A
    class declared in code (a layer base, ``@layer``) is left to the other
    hooks: the code's declaration wins, as at run time.
    """
    info = ctx.cls.info
    if _declared_in_code(ctx, info):
        return
    key = (info.fullname, id(info))
    if key in state.checked_classes:
        return
    if key not in state.waiting and not ctx.api.final_iteration:
        state.waiting.add(key)
        info.metadata[fullnames.METADATA_KEY] = {
            "mode": mode.mode,
            "kind": mode.kind,
            "declared_by": mode.declared_by,
        }
        ctx.api.defer()
        return
    _declare(state, ctx, info, mode)


def _declared_in_code(ctx: ClassDefContext, info: TypeInfo) -> bool:
    """A layer base (the base-class hook checks the class) or ``@layer`` (not analysed yet)."""
    if any(layer_mode(base) is not None for base in info.mro[1:]):
        return True
    for decorator in ctx.cls.decorators:
        callee = decorator.callee if isinstance(decorator, CallExpr) else decorator
        if isinstance(callee, (NameExpr, MemberExpr)) and callee.name == "layer":
            return True
    return False


def _declare(state: BuildState, ctx: ClassDefContext, info: TypeInfo, mode: LayerMode) -> None:
    info.metadata[fullnames.METADATA_KEY] = {
        "mode": mode.mode,
        "kind": mode.kind,
        "declared_by": mode.declared_by,
    }
    key = (info.fullname, id(info))
    if key in state.checked_classes:
        return
    sites = _analyzed_sites(ctx, info)
    if sites is None:
        return  # deferred: a name is not defined yet; the hook runs again
    state.checked_classes.add(key)
    _check_methods(state, ctx, info, mode)
    _check_dependencies(state, ctx, info, mode, sites)


def _check_methods(
    state: BuildState, ctx: ClassDefContext, info: TypeInfo, mode: LayerMode
) -> None:
    """R2: every public callable of the layer is of its mode (``@pure`` and properties exempt)."""
    for name, symbol in info.names.items():
        if name.startswith("_") and name != "__call__":
            continue
        node = symbol.node
        definition: FuncItem | None = None
        exempt = False
        if isinstance(node, FuncDef):
            definition = node
        elif isinstance(node, Decorator):
            definition = node.func
            exempt = any(
                decorator_name(d) in fullnames.EXEMPT_DECORATORS for d in node.original_decorators
            )
        elif isinstance(node, OverloadedFuncDef) and isinstance(node.impl, (FuncDef, Decorator)):
            definition = node.impl.func if isinstance(node.impl, Decorator) else node.impl
        if definition is None or exempt:
            continue
        async_def = definition.is_coroutine or definition.is_async_generator
        if async_def != (mode.mode == "async"):
            message = errors.layer_method_mode(info.name, name, async_def, mode.mode, mode.kind)
            state.fail(ctx.api, message, definition, errors.LAYER_MODE)


def _dependency_sites(info: TypeInfo) -> Iterator[_Site]:
    """``__init__``'s parameters and the annotated attributes, with their types."""
    init = info.names.get("__init__")
    node = init.node if init is not None else None
    if isinstance(node, Decorator):
        node = node.func
    if isinstance(node, FuncDef) and isinstance(node.type, CallableType):
        for name, typ in zip(node.arg_names[1:], node.type.arg_types[1:], strict=False):
            yield f'__init__ parameter "{name}"', typ, node
    for name, symbol in info.names.items():
        var = symbol.node
        if isinstance(var, Var) and not var.is_inferred and var.type is not None:
            if name.startswith("__"):
                continue
            yield f'attribute "{name}"', var.type, var


def _analyzed_sites(ctx: ClassDefContext, info: TypeInfo) -> list[_Site] | None:
    """The dependency sites with their types analyzed (``__init__``'s may not be yet).

    ``None`` when a type is still a placeholder: the class is deferred and
    the hook runs again once the name exists.
    """
    sites = []
    for via, typ, context in _dependency_sites(info):
        if isinstance(typ, UnboundType):
            analyzed = ctx.api.anal_type(typ)
            if analyzed is None or compat.has_placeholder(analyzed):
                if ctx.api.final_iteration:
                    continue
                ctx.api.defer()
                return None
            typ = analyzed
        sites.append((via, typ, context))
    return sites


def _check_dependencies(
    state: BuildState, ctx: ClassDefContext, info: TypeInfo, mode: LayerMode, sites: list[_Site]
) -> None:
    """R3: what the layer takes (``__init__``, attributes) is of its mode."""
    for via, typ, context in sites:
        for instance in instances(typ):
            other = layer_mode(instance.type)
            if other is None or other.mode == mode.mode:
                continue
            message = errors.layer_dependency(
                info.name, mode.mode, mode.kind, instance.type.name, other.mode, other.kind, via
            )
            where = context if context.line > 0 else ctx.cls
            state.fail(ctx.api, message, where, errors.LAYER_DEPENDENCY)


def on_layer_function(state: BuildState, ctx: FunctionContext) -> Type:
    """R2: ``@layer("sync")`` on a function of the other mode."""
    api = compat.checker(ctx.api)
    if api is not None and isinstance(ctx.context, CallExpr):
        decorator = state.decorator_of(api, ctx.context)
        declared = declared_mode(ctx.context)
        if decorator is not None and declared is not None:
            async_def = is_async(decorator.func)
            if (declared[0] == "async") != async_def:
                message = errors.layer_function_mode(
                    decorator.func.name, declared[0], declared[1], async_def
                )
                state.fail(api, message, decorator.func, errors.LAYER_MODE)
    return ctx.default_return_type
