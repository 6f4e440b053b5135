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

import os
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.errors import CompileError
from mypy.nodes import (
    GDEF,
    Block,
    ClassDef,
    Context,
    Expression,
    FuncDef,
    FuncItem,
    MypyFile,
    Node,
    SymbolTable,
    SymbolTableNode,
    TypeInfo,
)
from mypy.options import Options
from mypy.plugin import Plugin
from mypy.types import CallableType, Instance, ProperType, Type

__all__ = [
    "Checker",
    "as_seen_from",
    "bind_self",
    "bodies_present",
    "build_modules",
    "checker",
    "checks_body",
    "children",
    "config_error",
    "config_file",
    "current_function",
    "default_plugin",
    "expression_type",
    "has_placeholder",
    "inner_statements",
    "instance_of",
    "is_project_module",
    "module_options_for",
    "module_tree",
    "next_plugins",
    "plugin_metadata",
    "report_uncaptured",
    "shown_path",
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


def module_options_for(options: Options, module: str) -> Options:
    """The options of ``module`` (``[mypy-...]`` sections applied), from the global ones."""
    return options.clone_for_module(module)


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


# --- the build: its modules, which are the project's, the plugin's own data in the cache ------


def build_modules(plugin: Plugin) -> Mapping[str, MypyFile]:
    """Every module of the build, by name: what mypy gave the plugin (``set_modules``)."""
    modules = getattr(plugin, "_modules", None)
    return modules if isinstance(modules, dict) else {}


#: Path parts of modules that are installed, not the project's own (mypy silences them too).
_INSTALLED = ("site-packages", "dist-packages", "typeshed")


def is_project_module(tree: MypyFile) -> bool:
    """Whether ``tree`` is the project's own source: not a stub, not installed, not typeshed."""
    if tree.is_stub or not tree.path:
        return False
    parts = tree.path.replace("\\", "/").split("/")
    return not any(part in _INSTALLED for part in parts)


def bodies_present(tree: MypyFile) -> bool:
    """Whether the module's function bodies are in memory.

    A module read from the cache has none; mypy frees the bodies of a module
    it has finished checking (``free_tree``), which empties ``defs`` too.
    """
    return not tree.is_cache_skeleton and bool(tree.defs)


def checks_body(function: FuncItem, options: Options) -> bool:
    """Whether mypy checks this function's body (an unannotated one needs check_untyped_defs)."""
    return options.check_untyped_defs or not function.is_dynamic()


def plugin_metadata(tree: MypyFile, name: str, base: TypeInfo | None) -> dict[str, Any] | None:
    """The metadata of the plugin's own symbol ``name`` in module ``tree``.

    The symbol is a class mypy never sees in the source: its ``metadata`` is
    serialised with the module's symbol table, so it is written to the cache
    with the module and changes the module's interface hash when it changes
    (so the modules that depend on it are checked again).  ``base`` is
    ``builtins.object``, to create the symbol; ``None`` only reads it.
    """
    symbol = tree.names.get(name)
    if symbol is not None:
        return symbol.node.metadata if isinstance(symbol.node, TypeInfo) else None
    if base is None:
        return None
    defn = ClassDef(name, Block([]))
    defn.fullname = f"{tree.fullname}.{name}"
    info = TypeInfo(SymbolTable(), defn, tree.fullname)
    defn.info = info
    info.bases = [Instance(base, [])]
    info.mro = [info, base]
    tree.names[name] = SymbolTableNode(
        GDEF, info, module_public=False, module_hidden=True, plugin_generated=True
    )
    return info.metadata


def shown_path(path: str) -> str:
    """``path`` as a message shows it: relative to the working directory when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith("..") else relative


# --- types ------------------------------------------------------------------------------------


def instance_of(info: TypeInfo) -> ProperType:
    """An instance of class ``info``, its type arguments ``Any``."""
    from mypy.typevars import fill_typevars_with_any

    return fill_typevars_with_any(info)


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

#: The fields of statements and expressions that hold statements or expressions (mypy's
#: visitors are compiled traits that interpreted code cannot subclass, so the plugin walks
#: the fields).  What the nodes *refer to* (``node``, ``info``, types) is not followed.
_FIELDS = (
    "body",
    "else_body",
    "finally_body",
    "handlers",
    "bodies",
    "types",
    "vars",
    "guards",
    "subject",
    "expr",
    "callee",
    "args",
    "lvalues",
    "lvalue",
    "rvalue",
    "index",
    "left",
    "right",
    "operands",
    "base",
    "items",
    "begin_index",
    "end_index",
    "stride",
    "cond",
    "if_expr",
    "else_expr",
    "generator",
    "left_expr",
    "indices",
    "sequences",
    "condlists",
    "key",
    "value",
    "target",
    "from_expr",
    "msg",
    "call",
)
_fields_of: dict[type, tuple[str, ...]] = {}


def children(node: Node) -> list[Node]:
    """The statements and expressions directly inside ``node``, in source order mostly.

    Driven by field names, looked up once per node class: a field a node
    class does not have is never read.
    """
    kind = type(node)
    fields = _fields_of.get(kind)
    if fields is None:
        fields = _fields_of[kind] = tuple(name for name in _FIELDS if hasattr(kind, name))
    found: list[Node] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_nodes(value))
    return found


def _nodes(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _nodes(item)


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
