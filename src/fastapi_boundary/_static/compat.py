"""Every use of mypy's internals, behind small functions: a mypy upgrade touches this module.

mypy's plugin API (``mypy.plugin``: the hook contexts, ``fail``,
``named_generic_type``, ``anal_type``, ``defer``, ``lookup_fully_qualified``)
and its data model (the fields of nodes and types: ``FuncItem.is_coroutine``,
``Decorator.original_decorators``, ``TypeInfo.mro``, ``TypeInfo.metadata`` ...)
are used directly elsewhere.  What goes through here is the rest: the type
checker behind ``ctx.api``, its private attributes, the internal functions of
``mypy.typeops``/``mypy.expandtype``, the option and error classes.  Every
function degrades to "unknown" (``None``, the plain behaviour) rather than
crash when an attribute moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.errors import CompileError
from mypy.nodes import Block, Context, Expression, FuncDef, FuncItem, MypyFile, TypeInfo
from mypy.options import Options
from mypy.plugin import Plugin
from mypy.types import CallableType, Instance, Type

__all__ = [
    "Checker",
    "as_seen_from",
    "bind_self",
    "checker",
    "config_error",
    "config_file",
    "current_function",
    "default_plugin",
    "expression_type",
    "has_placeholder",
    "inner_statements",
    "module_tree",
    "next_plugins",
    "report_uncaptured",
]


# --- the type checker behind a hook's ``ctx.api`` ------------------------------------------

#: The type checker, as the checks name it (``ctx.api`` is one in type-checking hooks).
Checker: TypeAlias = TypeChecker


def checker(api: object) -> TypeChecker | None:
    """The type checker behind ``ctx.api`` (the interface a hook gets), if it is one."""
    return api if isinstance(api, TypeChecker) else None


def current_function(api: TypeChecker) -> FuncItem | None:
    """The innermost function (a lambda or nested def included) being checked.

    ``scope.current_function()`` in mypy 1.16+, ``top_function()`` before: the
    stack both read is the portable part.
    """
    for item in reversed(api.scope.stack):
        if isinstance(item, FuncItem):
            return item
    return None


def module_tree(api: TypeChecker) -> MypyFile:
    """The module being checked."""
    return api.tree


def expression_type(api: TypeChecker, expression: Expression) -> Type | None:
    """The type already inferred for ``expression``, without inferring it again."""
    return api.lookup_type(expression) if api.has_type(expression) else None


# --- reporting --------------------------------------------------------------------------------


def report_uncaptured(api: Any, message: str, context: Context, code: ErrorCode) -> None:
    """``api.fail``, past any error capture that is active.

    mypy tries each item of an overloaded callee with errors captured (its
    error watchers), and an error in the capture rejects the item.
    """
    watchers = getattr(getattr(api, "errors", None), "_watchers", None)
    if not watchers or not isinstance(watchers, list):
        api.fail(message, context, code=code)
        return
    saved = list(watchers)
    watchers.clear()
    try:
        api.fail(message, context, code=code)
    finally:
        watchers.extend(saved)


def config_error(message: str) -> CompileError:
    """What stops mypy on a bad configuration: it prints the messages and exits with 2."""
    return CompileError([message])


# --- plugins and options ----------------------------------------------------------------------


def config_file(options: Options) -> str | None:
    """The configuration file mypy read (``None``: none)."""
    return options.config_file


def default_plugin(options: Options) -> Plugin:
    """mypy's own plugin, which runs last (when the plugin chain cannot be read)."""
    from mypy.plugins.default import DefaultPlugin

    return DefaultPlugin(options)


def next_plugins(api: object, plugin: Plugin) -> list[Plugin] | None:
    """The plugins mypy asks after ``plugin`` (its default plugin last); ``None``: unknown."""
    chain = getattr(getattr(api, "plugin", None), "_plugins", None)
    if isinstance(chain, list) and plugin in chain:
        return chain[chain.index(plugin) + 1 :]
    return None


# --- types ------------------------------------------------------------------------------------


def has_placeholder(typ: Type) -> bool:
    """Whether a type analysed in semantic analysis still names something not defined yet."""
    from mypy.semanal_shared import has_placeholder as found

    return found(typ)


def as_seen_from(typ: Type, owner: Instance, info: TypeInfo) -> Type:
    """``typ``, declared in class ``info``, with the type arguments of ``owner`` (a subclass)."""
    from mypy.expandtype import expand_type_by_instance
    from mypy.maptype import map_instance_to_supertype

    return expand_type_by_instance(typ, map_instance_to_supertype(owner, info))


def bind_self(method: CallableType, owner: Instance) -> Type:
    """The method's signature without ``self``, bound to ``owner``."""
    from mypy.typeops import bind_self as bind

    return bind(method, owner)


# --- the tree ---------------------------------------------------------------------------------

#: The fields of statements that hold statements (``if``/``try``/``with``/``for`` bodies ...).
_INNER = ("func", "body", "else_body", "finally_body", "handlers", "bodies", "defs", "items")


def inner_statements(statement: object) -> Iterator[object]:
    """The statements directly inside ``statement``.

    A plain walk over fields: mypy's visitors are compiled traits that
    interpreted code cannot subclass.
    """
    for attribute in _INNER:
        inner = getattr(statement, attribute, None)
        if isinstance(inner, Block):
            yield from inner.body
        elif isinstance(inner, list):
            for item in inner:
                if isinstance(item, Block):
                    yield from item.body
                else:
                    yield item
        elif isinstance(inner, FuncDef):
            yield inner
