"""What the checks share during one build: the configuration, the caches, the way to report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    Context,
    Decorator,
    FuncDef,
    MypyFile,
    OverloadedFuncDef,
    SymbolTableNode,
    TypeInfo,
)
from mypy.types import get_proper_type

from .._common import catalog
from . import compat
from .compat import Checker
from .config import CONFIG_SECTION, PluginConfig
from .nodes import DecoratorIndex, is_async, returns_coroutine

if TYPE_CHECKING:
    from .effects import Summaries

__all__ = ["BuildState"]


@dataclass
class BuildState:
    """Per-build state; mypy makes a new plugin instance, and with it a new state, per build.

    ``lookup`` is the plugin's ``lookup_fully_qualified``.
    """

    config: PluginConfig
    lookup: Callable[[str], SymbolTableNode | None]
    extra: dict[str, catalog.BlockingEntry] = field(default_factory=dict)
    indexes: dict[str, tuple[MypyFile, DecoratorIndex]] = field(default_factory=dict)
    method_kinds: dict[str, str | None] = field(default_factory=dict)
    function_kinds: dict[str, str | None] = field(default_factory=dict)
    checked_classes: set[tuple[str, int]] = field(default_factory=set)
    waiting: set[tuple[str, int]] = field(default_factory=set)  # configured layers, first pass
    base_kinds: dict[str, bool] = field(default_factory=dict)
    summaries: Summaries | None = None  # the blocking effects (set by the plugin)

    @classmethod
    def create(
        cls, config: PluginConfig, lookup: Callable[[str], SymbolTableNode | None]
    ) -> BuildState:
        """The state for ``config``, with its ``blocking`` entries parsed."""
        entries = catalog.parse_entries(config.blocking, CONFIG_SECTION) if config.blocking else []
        extra = {name: entry for entry in entries for name in entry.names}
        return cls(config, lookup, extra)

    # -- reporting --

    def fail(self, api: Any, message: str, context: Context, code: ErrorCode) -> None:
        """Report, unless disabled, past any error capture that is active.

        mypy tries each item of an overloaded callee (``open``,
        ``subprocess.run``, ``layer``, ``blocking``) with errors captured, and
        an error in the capture rejects the item: reported there, a boundary
        error would change which overload mypy picks.  What the plugin reports
        does not depend on the item, so it goes straight to the report (mypy
        drops the duplicates of a call checked more than once).
        """
        if code.code in self.config.disable:
            return
        compat.report_uncaptured(api, message, context, code)

    # -- lookups --

    def type_info(self, fullname: str) -> TypeInfo | None:
        """The class named ``fullname``, once analysed."""
        symbol = self.lookup(fullname)
        return symbol.node if symbol is not None and isinstance(symbol.node, TypeInfo) else None

    def catalog_entry(self, name: str) -> catalog.BlockingEntry | None:
        """The catalogue entry (configured ones first) of a function."""
        return self.extra.get(name) or catalog.lookup(name)

    def catalog_method(self, info: TypeInfo, method: str) -> catalog.BlockingEntry | None:
        """The catalogue entry of a method, along the class's MRO (configured ones first)."""
        names = [base.fullname for base in info.mro]
        for class_name in names:
            found = self.extra.get(f"{class_name}.{method}")
            if found is None and not method.startswith("_"):
                found = self.extra.get(f"{class_name}.*")
            if found is not None:
                return found
        return catalog.lookup_method(names, method)

    def catalog_hit(self, info: TypeInfo, method: str) -> tuple[catalog.BlockingEntry, str] | None:
        """The entry of ``method`` called on an instance of ``info``, and the name to show.

        An ``async def`` (or a method returning a coroutine) never blocks: it
        is awaited, whatever entry covers its class.  A ``Class.*`` entry
        shows the method called, where it is defined.
        """
        entry = self.catalog_method(info, method)
        if entry is None:
            return None
        member = info.get(method)
        node = member.node if member is not None else None
        if is_async(node):
            return None
        typ = node.var.type if isinstance(node, Decorator) else None
        if isinstance(node, (FuncDef, OverloadedFuncDef)):
            typ = node.type
        if typ is not None and returns_coroutine(get_proper_type(typ)):
            return None
        if not entry.is_wildcard:
            return entry, entry.name
        if isinstance(node, (FuncDef, OverloadedFuncDef, Decorator)) and node.fullname:
            return entry, node.fullname
        return entry, f"{entry.name[:-2]}.{method}"

    def catalog_constructor(self, info: TypeInfo) -> tuple[catalog.BlockingEntry, str] | None:
        """The entry of ``info``'s constructor (``Class.__init__``, along the MRO), and its name."""
        entry = self.catalog_method(info, "__init__")
        return (entry, info.fullname) if entry is not None else None

    # -- decorators (type checking) --

    def decorator_of(self, api: Checker, expression: Context) -> Decorator | None:
        """The decorated definition a decorator expression (or the ``Decorator`` itself) is of."""
        if isinstance(expression, Decorator):
            return expression
        return self.index(api).by_expression.get(id(expression))

    def index(self, api: Checker) -> DecoratorIndex:
        """The decorator index of the module being checked (built once per module and tree)."""
        tree = compat.module_tree(api)
        cached = self.indexes.get(tree.fullname)
        if cached is not None and cached[0] is tree:
            return cached[1]
        index = DecoratorIndex(tree)
        self.indexes[tree.fullname] = (tree, index)
        return index
