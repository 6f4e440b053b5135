"""``to_async(service).method``: the sync method's parameters, returning a coroutine of its result.

A proxy typed from its target's methods is not expressible in Python's type
system; the attribute hook on ``AsyncProxy`` gives each public method its type.
"""

from __future__ import annotations

from mypy.nodes import Decorator, FuncDef, SymbolNode, Var
from mypy.plugin import AttributeContext
from mypy.types import AnyType, CallableType, Instance, Type, TypeOfAny, get_proper_type

from . import compat, errors
from .nodes import is_async
from .state import BuildState

__all__ = ["on_proxy_attribute"]


def on_proxy_attribute(state: BuildState, ctx: AttributeContext, name: str) -> Type:
    """``AsyncProxy[S].name``: S's method with the same parameters, returning a coroutine."""
    proxy = get_proper_type(ctx.type)
    api = compat.checker(ctx.api)
    if not (isinstance(proxy, Instance) and proxy.args and api is not None):
        return ctx.default_attr_type
    target = get_proper_type(proxy.args[0])
    if not isinstance(target, Instance):
        return ctx.default_attr_type
    member = target.type.get(name)
    if member is None or member.node is None:
        return ctx.default_attr_type
    node = member.node
    if isinstance(node, Var) and not node.is_property:
        return _attribute_type(node, target) or ctx.default_attr_type
    if is_async(node):
        message = errors.proxy_given_async(target.type.name, name)
        state.fail(api, message, ctx.context, errors.OFFLOAD)
        return ctx.default_attr_type
    signature = _bound_signature(node, target)
    if signature is None:
        return ctx.default_attr_type
    artifact = AnyType(TypeOfAny.implementation_artifact)
    coroutine = api.named_generic_type("typing.Coroutine", [artifact, artifact, signature.ret_type])
    return signature.copy_modified(
        ret_type=coroutine, fallback=api.named_generic_type("builtins.function", [])
    )


def _attribute_type(node: Var, owner: Instance) -> Type | None:
    if node.type is None or node.info is None:
        return None
    return compat.as_seen_from(node.type, owner, node.info)


def _bound_signature(node: SymbolNode, owner: Instance) -> CallableType | None:
    if isinstance(node, Decorator):
        typ = get_proper_type(node.var.type) if node.var.type is not None else None
        info = node.info
        is_static = node.func.is_static
    elif isinstance(node, FuncDef):
        typ = get_proper_type(node.type) if node.type is not None else None
        info = node.info
        is_static = node.is_static
    else:
        return None
    if not isinstance(typ, CallableType):
        return None
    expanded = get_proper_type(compat.as_seen_from(typ, owner, info))
    if not isinstance(expanded, CallableType):
        return None
    bound = expanded if is_static else get_proper_type(compat.bind_self(expanded, owner))
    return bound if isinstance(bound, CallableType) else None
