"""What the plugin reads off mypy's nodes and types: layer modes, async-ness, markers, names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from mypy.nodes import (
    FUNC_NO_INFO,
    CallExpr,
    Decorator,
    Expression,
    FuncBase,
    FuncDef,
    FuncItem,
    MemberExpr,
    MypyFile,
    NameExpr,
    OverloadedFuncDef,
    RefExpr,
    StrExpr,
    SymbolNode,
    TypeInfo,
)
from mypy.types import CallableType, Instance, Overloaded, ProperType, Type, UnionType
from mypy.types import get_proper_type as proper

from .._common.config import LayerRule, match_layer
from . import compat, fullnames

__all__ = [
    "DecoratorIndex",
    "LayerMode",
    "async_kind",
    "configure_layers",
    "configured_mode",
    "declared_mode",
    "decorator_name",
    "function_label",
    "instances",
    "is_async",
    "layer_mode",
    "marker_of",
    "owner_mode",
    "returns_coroutine",
    "source_text",
]


@dataclass(frozen=True)
class LayerMode:
    """A declared layer: its mode (``sync``/``async``), its kind and the class that declared it."""

    mode: str
    kind: str
    declared_by: str

    @property
    def role(self) -> str:
        return f"{self.mode} {self.kind}"


def decorator_name(expression: Expression) -> str:
    """The fullname of a decorator, bare (``@pure``) or called (``@layer("sync")``)."""
    if isinstance(expression, CallExpr):
        expression = expression.callee
    return expression.fullname if isinstance(expression, RefExpr) else ""


def declared_mode(expression: Expression) -> tuple[str, str] | None:
    """``layer("sync", kind=...)`` or ``layer(Mode.ASYNC)`` as (mode, kind); ``None`` otherwise."""
    if not (isinstance(expression, CallExpr) and decorator_name(expression) == fullnames.LAYER):
        return None
    if not expression.args:
        return None
    kind = "layer"
    for name, argument in zip(expression.arg_names, expression.args, strict=False):
        if name == "kind" and isinstance(argument, StrExpr):
            kind = argument.value
    first = expression.args[0]
    if isinstance(first, StrExpr):
        mode = first.value.strip().lower()
    elif isinstance(first, (MemberExpr, NameExpr)):
        mode = first.name.lower()
    else:
        return None
    return (mode, kind) if mode in ("sync", "async") else None


_configured: tuple[LayerRule, ...] = ()


def configure_layers(rules: tuple[LayerRule, ...]) -> None:
    """The ``[tool.fastapi-boundary.layers]`` of this build (the plugin sets them when created)."""
    global _configured
    _configured = rules


def configured_mode(fullname: str) -> LayerMode | None:
    """The layer ``[tool.fastapi-boundary.layers]`` makes of the class ``fullname``, if any."""
    if not _configured or fullname.startswith(f"{fullnames.LIB}."):
        return None
    rule = match_layer(_configured, fullname)
    return LayerMode(rule.mode, rule.kind, fullname) if rule is not None else None


def layer_mode(info: TypeInfo) -> LayerMode | None:
    """The declared mode of a class, from its MRO.

    For each class of the MRO: its metadata (a declaration the plugin has
    seen), a library base, ``@layer``, then ``[tool.fastapi-boundary.layers]``.
    """
    for base in info.mro:
        stored = base.metadata.get(fullnames.METADATA_KEY)
        if stored and "mode" in stored:
            return LayerMode(stored["mode"], stored["kind"], stored["declared_by"])
        declared = fullnames.LAYER_BASES.get(base.fullname)
        if declared is not None:
            return LayerMode(declared[0], declared[1], base.fullname)
        for decorator in base.defn.decorators:
            found = declared_mode(decorator)
            if found is not None:
                return LayerMode(found[0], found[1], base.fullname)
        configured = configured_mode(base.fullname)
        if configured is not None:
            return configured
    return None


def instances(typ: Type | None) -> Iterator[Instance]:
    """The class instances a type stands for (``X``, ``X | None``, ``X | Y``)."""
    found = proper(typ) if typ is not None else None
    if isinstance(found, Instance):
        yield found
    elif isinstance(found, UnionType):
        for item in found.items:
            yield from instances(item)


def marker_of(typ: Type | None) -> str | None:
    """``@blocking`` or ``@cpu_bound`` if the callable type carries the marker."""
    found = proper(typ) if typ is not None else None
    if isinstance(found, CallableType):
        return fullnames.MARKED_AS.get(found.fallback.type.fullname)
    if isinstance(found, Overloaded):
        for item in found.items:
            marker = fullnames.MARKED_AS.get(item.fallback.type.fullname)
            if marker:
                return marker
    return None


def source_text(expression: Expression) -> str:
    """Source-like text of a name or attribute chain, for messages."""
    if isinstance(expression, NameExpr):
        return expression.name
    if isinstance(expression, MemberExpr):
        return f"{source_text(expression.expr)}.{expression.name}"
    if isinstance(expression, CallExpr):
        return f"{source_text(expression.callee)}(...)"
    return "..."


def function_label(function: FuncItem) -> str:
    """``Class.method`` for a method, the name for a function."""
    if isinstance(function, FuncDef) and function.info is not FUNC_NO_INFO:
        return f"{function.info.name}.{function.name}"
    return function.name


def owner_mode(function: FuncItem) -> tuple[TypeInfo, LayerMode] | None:
    """The layer ``function`` is a method of, with its mode; ``None`` for anything else."""
    if isinstance(function, FuncDef) and function.info is not FUNC_NO_INFO:
        mode = layer_mode(function.info)
        if mode is not None:
            return function.info, mode
    return None


def is_async(function: FuncBase | Decorator | SymbolNode | None) -> bool:
    """Whether a definition is an ``async def`` (a coroutine or an async generator function)."""
    if isinstance(function, Decorator):
        function = function.func
    if isinstance(function, OverloadedFuncDef):
        function = function.impl or (function.items[0] if function.items else None)
        if isinstance(function, Decorator):
            function = function.func
    return isinstance(function, FuncItem) and (function.is_coroutine or function.is_async_generator)


_ASYNC_RESULTS = ("typing.Coroutine", "typing.AsyncGenerator", "typing.AsyncIterator")


def _async_result(typ: ProperType | None) -> str | None:
    """The fullname of what a callable type returns, if it is a coroutine or an async iterator."""
    if isinstance(typ, CallableType):
        ret = proper(typ.ret_type)
        if isinstance(ret, Instance) and ret.type.fullname in _ASYNC_RESULTS:
            return ret.type.fullname
    return None


def returns_coroutine(typ: ProperType | None) -> bool:
    """Whether a callable type returns a coroutine or an async iterator."""
    return _async_result(typ) is not None


def async_kind(node: SymbolNode | None, typ: ProperType | None) -> str | None:
    """``an async def`` or ``an async generator`` (or a callable returning one); ``None``: sync."""
    if isinstance(node, Decorator):
        node = node.func
    if is_async(node):
        generator = isinstance(node, FuncDef) and node.is_async_generator
        return "an async generator" if generator else "an async def"
    result = _async_result(typ)
    if result is None:
        return None
    return "an async def" if result == "typing.Coroutine" else "an async generator"


class DecoratorIndex:
    """Every ``Decorator`` of a module, by its decorator expressions and by its function."""

    def __init__(self, tree: MypyFile) -> None:
        self.by_expression: dict[int, Decorator] = {}
        self.by_function: dict[int, Decorator] = {}
        self._walk(tree.defs)

    def _walk(self, statements: Iterable[object]) -> None:
        for statement in statements:
            if isinstance(statement, Expression):
                continue
            if isinstance(statement, Decorator):
                self.by_function[id(statement.func)] = statement
                for expression in statement.original_decorators:
                    self.by_expression[id(expression)] = statement
            self._walk(compat.inner_statements(statement))
