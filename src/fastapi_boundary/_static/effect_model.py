"""The model of a blocking effect: the chain of calls (`Hop`), what blocks (`Leaf`), the `Effect`.

Kept apart from the walk that finds effects (`effect_walk`) and the summaries that store and
solve them (`effects`), so that each can be read alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from mypy.nodes import (
    FUNC_NO_INFO,
    Decorator,
    FuncDef,
    OverloadedFuncDef,
    SymbolNode,
    TypeInfo,
)

from . import compat, fullnames
from .nodes import decorator_name, is_async, marker_of

__all__ = [
    "MAX_DEPTH",
    "Call",
    "Effect",
    "FunctionFacts",
    "Hop",
    "Leaf",
    "callee_function",
    "decorator_marker",
    "marker_leaf",
    "module_of",
]

#: The most functions of the project a chain goes through before the blocking call.
MAX_DEPTH: Final = 8


@dataclass(frozen=True)
class Hop:
    """A function of the chain, and the line where it makes the next call."""

    label: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.label} ({compat.shown_path(self.path)}:{self.line})"


@dataclass(frozen=True)
class Leaf:
    """What blocks at the end of a chain: its name and its kind.

    ``kind`` is the catalogue category (``db``, ``cpu`` ...), the marker
    (``@blocking``, ``@cpu_bound``) or a sync layer's role (``sync repository``).
    """

    name: str
    kind: str

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def is_cpu(self) -> bool:
        """CPU work: the fix is a worker process rather than a thread."""
        return self.kind in ("cpu", "@cpu_bound")


@dataclass(frozen=True)
class Effect:
    """A blocking function's chain: its own call first, down to the leaf."""

    hops: tuple[Hop, ...]
    leaf: Leaf

    def to_data(self) -> list[Any]:
        """JSON data for mypy's cache: ``[[[label, path, line], ...], [name, kind]]``."""
        return [[[h.label, h.path, h.line] for h in self.hops], [self.leaf.name, self.leaf.kind]]

    @classmethod
    def from_data(cls, data: Any) -> Effect | None:
        """An effect read back from the cache (``None``: not data `to_data` wrote)."""
        try:
            hops, (name, kind) = data
            return cls(
                tuple(Hop(str(label), str(path), int(line)) for label, path, line in hops),
                Leaf(str(name), str(kind)),
            )
        except (TypeError, ValueError):
            return None

    def through(self, hop: Hop) -> Effect:
        """This effect as seen from a caller: ``hop`` first."""
        return Effect((hop, *self.hops), self.leaf)


#: A call the walk found: the line, and either what blocks there or the function it calls.
@dataclass(frozen=True)
class Call:
    line: int
    leaf: Leaf | None = None
    callee: str | None = None


@dataclass
class FunctionFacts:
    """A sync function of the group being solved: where it is and what it calls."""

    module: str
    label: str
    path: str
    calls: list[Call] = field(default_factory=list)


def callee_function(node: SymbolNode | None) -> FuncDef | None:
    """The sync ``def`` a callee node runs when called (a class: its ``__init__``)."""
    if isinstance(node, TypeInfo):
        init = node.get("__init__")
        node = init.node if init is not None else None
    if isinstance(node, Decorator):
        node = node.func
    if isinstance(node, OverloadedFuncDef):
        impl = node.impl
        node = impl.func if isinstance(impl, Decorator) else impl
    if isinstance(node, FuncDef) and not is_async(node):
        return node
    return None


def module_of(function: FuncDef) -> str:
    if function.info is not FUNC_NO_INFO:
        return function.info.module_name
    return function.fullname.rpartition(".")[0]


def marker_leaf(name: str, marker: str) -> Leaf:
    return Leaf(name, marker)


def decorator_marker(node: Decorator) -> str | None:
    """``@blocking``/``@cpu_bound`` on a decorated function, from its type or its decorators."""
    marker = marker_of(node.var.type)
    if marker is not None:
        return marker
    for expression in node.original_decorators:
        name = decorator_name(expression)
        if name in fullnames.MARKER_TYPES:
            return "@cpu_bound" if name == fullnames.CPU_BOUND else "@blocking"
    return None
