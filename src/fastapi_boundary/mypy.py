"""The mypy plugin: the boundary rules checked statically, with types.

Enable it with ``plugins = fastapi_boundary.mypy``.  It reports, each under
its own error code (see `ERROR_CODES`):

- mode of definitions: an ``async def`` in a sync layer, a public ``def`` in
  an async layer, ``@blocking``/``@cpu_bound`` on an ``async def``, a layer
  whose constructor or annotated attributes take a layer of the other mode,
  an endpoint whose dependencies are layers of the other mode, an endpoint on
  a ``SyncRouter``/``AsyncRouter`` of the other mode;
- blocking calls inside ``async def``: sync-layer methods, ``@blocking`` and
  ``@cpu_bound`` callables (the marker rides in the type, so aliases and
  attributes are caught) and the blocking catalogue, resolved by type;
- async-layer methods called from a sync layer or a ``def`` endpoint;
- ``async def`` handed to a thread offload;

and types ``to_async(service).method(...)`` exactly.  mypy has no hook on a
function definition, so rules about a ``def`` ride on class hooks, decorator
calls and call sites; a call inside a lambda or nested ``def`` belongs to that
(sync) function, so offloaded work is never flagged.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from configparser import ConfigParser
from dataclasses import dataclass, field
from typing import Any, Final

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.errors import CompileError
from mypy.nodes import (
    ARG_POS,
    FUNC_NO_INFO,
    Block,
    CallExpr,
    Context,
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
    Var,
)
from mypy.options import Options
from mypy.plugin import (
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.plugins.default import DefaultPlugin
from mypy.semanal_shared import has_placeholder
from mypy.typeops import bind_self
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    Overloaded,
    ProperType,
    Type,
    TypeOfAny,
    UnboundType,
    UnionType,
    get_proper_type,
)

from .__about__ import __version__
from ._common import catalog as _catalog

__all__ = ["ERROR_CODES", "BoundaryPlugin", "plugin"]

CONFIG_SECTION: Final = "fastapi-boundary-mypy"
_CATEGORY: Final = "fastapi-boundary"

LAYER_MODE: Final = ErrorCode(
    "boundary-layer-mode", "A layer's public callable is not of the layer's mode", _CATEGORY
)
MARKER: Final = ErrorCode("boundary-marker", "@blocking or @cpu_bound on an async def", _CATEGORY)
LAYER_DEPENDENCY: Final = ErrorCode(
    "boundary-layer-dependency", "A layer takes a layer of the other mode", _CATEGORY
)
ENDPOINT_DEPENDENCY: Final = ErrorCode(
    "boundary-endpoint-dependency", "An endpoint depends on a layer of the other mode", _CATEGORY
)
ROUTE_MODE: Final = ErrorCode(
    "boundary-route-mode", "An endpoint added to a router of the other mode", _CATEGORY
)
BLOCKING_CALL: Final = ErrorCode(
    "boundary-blocking-call", "A blocking call inside async def", _CATEGORY
)
ASYNC_FROM_SYNC: Final = ErrorCode(
    "boundary-async-from-sync", "An async layer's method called from sync code", _CATEGORY
)
OFFLOAD: Final = ErrorCode("boundary-offload", "An async def handed to a thread offload", _CATEGORY)

#: Every code the plugin reports, by name (the ``disable`` key takes these names).
ERROR_CODES: Final[Mapping[str, ErrorCode]] = {
    code.code: code
    for code in (
        LAYER_MODE,
        MARKER,
        LAYER_DEPENDENCY,
        ENDPOINT_DEPENDENCY,
        ROUTE_MODE,
        BLOCKING_CALL,
        ASYNC_FROM_SYNC,
        OFFLOAD,
    )
}

_LIB: Final = "fastapi_boundary"
_LAYER_BASES: Final[Mapping[str, tuple[str, str]]] = {
    f"{_LIB}._audit.layers.SyncRepository": ("sync", "repository"),
    f"{_LIB}._audit.layers.AsyncRepository": ("async", "repository"),
    f"{_LIB}._audit.layers.SyncService": ("sync", "service"),
    f"{_LIB}._audit.layers.AsyncService": ("async", "service"),
}
_LAYER: Final = f"{_LIB}._audit.layers.layer"
_PURE: Final = f"{_LIB}._audit.layers.pure"
_BLOCKING: Final = f"{_LIB}._offload.threads.blocking"
_CPU_BOUND: Final = f"{_LIB}._offload.process_pool.cpu_bound"
_TO_ASYNC_PROXY: Final = f"{_LIB}._offload.proxy.AsyncProxy"
_MARKERS: Final = f"{_LIB}._static.marker_types"
_MARKER_TYPES: Final[Mapping[str, str]] = {
    _BLOCKING: f"{_MARKERS}.BlockingFunction",
    _CPU_BOUND: f"{_MARKERS}.CpuBoundFunction",
}
_MARKED_AS: Final[Mapping[str, str]] = {
    f"{_MARKERS}.BlockingFunction": "@blocking",
    f"{_MARKERS}.CpuBoundFunction": "@cpu_bound",
}
_ROUTERS: Final[Mapping[str, str]] = {
    f"{_LIB}.routing.SyncRouter": "sync",
    f"{_LIB}.routing.AsyncRouter": "async",
}
_ROUTER_BASES: Final = ("fastapi.routing.APIRouter", "fastapi.applications.FastAPI")
_ROUTE_METHODS: Final = frozenset(
    {"get", "put", "post", "delete", "options", "head", "patch", "trace", "api_route"}
)
_WEBSOCKET_METHODS: Final = frozenset({"websocket", "websocket_route"})
#: Thread offloads: each runs a sync callable, so an ``async def`` is a mistake.
_OFFLOADS: Final[Mapping[str, str]] = {
    f"{_LIB}._offload.threads.run_blocking": "run_blocking",
    f"{_LIB}._offload.process_pool.run_cpu": "run_cpu",
    "anyio.to_thread.run_sync": "anyio.to_thread.run_sync",
    "starlette.concurrency.run_in_threadpool": "run_in_threadpool",
    "asyncio.threads.to_thread": "asyncio.to_thread",
}
_EXEMPT_DECORATORS: Final = frozenset(
    {
        _PURE,
        "builtins.property",
        "functools.cached_property",
        "abc.abstractproperty",
    }
)
_METADATA_KEY: Final = _LIB
_CONFIG_KEYS: Final = frozenset({"blocking", "disable", "offloads"})


# --- configuration -------------------------------------------------------------------------


def _catalog_digest() -> str:
    text = "\n".join([__version__, *map(repr, _catalog.CATALOG)])  # frozen dataclasses
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_CATALOG_DIGEST: Final = _catalog_digest()


def _config_error(message: str) -> CompileError:
    """A bad section stops mypy: it prints a ``CompileError``'s messages and exits with 2."""
    return CompileError([f"fastapi-boundary mypy plugin: {message}"])


@dataclass(frozen=True)
class PluginConfig:
    """The ``[fastapi-boundary-mypy]`` section (``[tool.fastapi-boundary-mypy]`` in pyproject).

    ``blocking``: extra ``name = category[: advice]`` lines for the catalogue;
    ``disable``: error codes to switch off; ``offloads``: extra qualified
    names of functions that run a sync callable in a thread.
    """

    blocking: tuple[str, ...] = ()
    disable: frozenset[str] = frozenset()
    offloads: tuple[str, ...] = ()
    source: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "blocking": list(self.blocking),
            "disable": sorted(self.disable),
            "offloads": list(self.offloads),
        }


def _lines(value: object, key: str, source: str) -> tuple[str, ...]:
    """An ini value (one item a line, or comma separated) or a TOML list/table, as strings."""
    if isinstance(value, str):
        separator = "\n" if "\n" in value.strip() or key == "blocking" else ","
        items = value.split(separator) if separator == "," else value.splitlines()
        return tuple(item.strip() for item in items if item.strip())
    if isinstance(value, Mapping) and key == "blocking":
        return tuple(f"{name} = {category}" for name, category in value.items())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise _config_error(f"{source}: [{CONFIG_SECTION}] {key} must be a list of strings")


def _read_section(config_file: str) -> Mapping[str, object] | None:
    if config_file.endswith(".toml"):
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - version dependent
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        with open(config_file, "rb") as handle:
            data = tomllib.load(handle)
        section = data.get("tool", {}).get(CONFIG_SECTION)
        return section if isinstance(section, Mapping) else None
    parser = ConfigParser()
    parser.read(config_file, encoding="utf-8")
    if not parser.has_section(CONFIG_SECTION):
        return None
    return dict(parser.items(CONFIG_SECTION))


def load_config(config_file: str | None) -> PluginConfig:
    """Read and validate the plugin's section; a mistake raises mypy's ``CompileError``.

    The message names the file, the key and the fix.
    """
    if not config_file:
        return PluginConfig()
    section = _read_section(config_file)
    if section is None:
        return PluginConfig(source=config_file)
    source = f"{config_file} [{CONFIG_SECTION}]"
    unknown = sorted(set(section) - _CONFIG_KEYS)
    if unknown:
        raise _config_error(
            f"{source}: unknown key(s) {', '.join(unknown)}. "
            f"Fix: use only {', '.join(sorted(_CONFIG_KEYS))}."
        )
    blocking = _lines(section.get("blocking", ()), "blocking", source)
    disable = frozenset(_lines(section.get("disable", ()), "disable", source))
    offloads = _lines(section.get("offloads", ()), "offloads", source)
    bad = sorted(disable - set(ERROR_CODES))
    if bad:
        raise _config_error(
            f"{source}: disable names unknown code(s) {', '.join(bad)}. "
            f"Fix: use codes among {', '.join(ERROR_CODES)}."
        )
    if blocking:  # parse_entries imports the error classes, and with them FastAPI
        try:
            _catalog.parse_entries(blocking, source)
        except Exception as error:
            from ._common.errors import BoundaryError

            if not isinstance(error, BoundaryError):
                raise
            raise _config_error(str(error)) from None
    return PluginConfig(blocking, disable, offloads, config_file)


# --- what the plugin knows about classes and functions -------------------------------------


@dataclass(frozen=True)
class LayerMode:
    """A declared layer: its mode (``sync``/``async``), its kind and the class that declared it."""

    mode: str
    kind: str
    declared_by: str

    @property
    def role(self) -> str:
        return f"{self.mode} {self.kind}"


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _decorator_name(expression: Expression) -> str:
    if isinstance(expression, CallExpr):
        expression = expression.callee
    return expression.fullname if isinstance(expression, RefExpr) else ""


def _declared_mode(expression: Expression) -> tuple[str, str] | None:
    """``layer("sync", kind=...)`` or ``layer(Mode.ASYNC)`` as (mode, kind); ``None`` otherwise."""
    if not (isinstance(expression, CallExpr) and _decorator_name(expression) == _LAYER):
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


def layer_mode(info: TypeInfo) -> LayerMode | None:
    """The declared mode of a class, from its MRO (metadata, library bases, ``@layer``)."""
    for base in info.mro:
        stored = base.metadata.get(_METADATA_KEY)
        if stored and "mode" in stored:
            return LayerMode(stored["mode"], stored["kind"], stored["declared_by"])
        declared = _LAYER_BASES.get(base.fullname)
        if declared is not None:
            return LayerMode(declared[0], declared[1], base.fullname)
        for decorator in base.defn.decorators:
            found = _declared_mode(decorator)
            if found is not None:
                return LayerMode(found[0], found[1], base.fullname)
    return None


def _instances(typ: Type | None) -> Iterator[Instance]:
    proper = get_proper_type(typ) if typ is not None else None
    if isinstance(proper, Instance):
        yield proper
    elif isinstance(proper, UnionType):
        for item in proper.items:
            yield from _instances(item)


def _marker_of(typ: Type | None) -> str | None:
    """``@blocking`` or ``@cpu_bound`` if the callable type carries the marker."""
    proper = get_proper_type(typ) if typ is not None else None
    if isinstance(proper, CallableType):
        return _MARKED_AS.get(proper.fallback.type.fullname)
    if isinstance(proper, Overloaded):
        for item in proper.items:
            found = _MARKED_AS.get(item.fallback.type.fullname)
            if found:
                return found
    return None


def _text(expression: Expression) -> str:
    """Source-like text of a name or attribute chain, for messages."""
    if isinstance(expression, NameExpr):
        return expression.name
    if isinstance(expression, MemberExpr):
        return f"{_text(expression.expr)}.{expression.name}"
    if isinstance(expression, CallExpr):
        return f"{_text(expression.callee)}(...)"
    return "..."


def _function_label(function: FuncItem) -> str:
    if isinstance(function, FuncDef) and function.info is not FUNC_NO_INFO:
        return f"{function.info.name}.{function.name}"
    return function.name


def _is_async(function: FuncBase | Decorator | SymbolNode | None) -> bool:
    if isinstance(function, Decorator):
        function = function.func
    if isinstance(function, OverloadedFuncDef):
        function = function.impl or (function.items[0] if function.items else None)
        if isinstance(function, Decorator):
            function = function.func
    return isinstance(function, FuncItem) and (function.is_coroutine or function.is_async_generator)


class _DecoratorIndex:
    """Every ``Decorator`` of a module, by its decorator expressions and by its function.

    A plain walk over statements (mypy's visitors are compiled traits that
    interpreted code cannot subclass).
    """

    _INNER: Final = (
        "func",
        "body",
        "else_body",
        "finally_body",
        "handlers",
        "bodies",
        "defs",
        "items",
    )

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
            for attribute in self._INNER:
                inner = getattr(statement, attribute, None)
                if isinstance(inner, Block):
                    self._walk(inner.body)
                elif isinstance(inner, list):
                    for item in inner:
                        self._walk(item.body if isinstance(item, Block) else [item])
                elif isinstance(inner, FuncDef):
                    self._walk([inner])


@dataclass
class _State:
    """Per-build caches; a new plugin instance is made for every build."""

    indexes: dict[str, tuple[MypyFile, _DecoratorIndex]] = field(default_factory=dict)
    method_kinds: dict[str, str | None] = field(default_factory=dict)
    function_kinds: dict[str, str | None] = field(default_factory=dict)
    checked_classes: set[tuple[str, int]] = field(default_factory=set)
    base_kinds: dict[str, bool] = field(default_factory=dict)


# --- the plugin ----------------------------------------------------------------------------


class BoundaryPlugin(Plugin):
    """Hooks dispatched by fullname; see the module docstring for the rules."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.config = load_config(options.config_file)
        extra = (
            _catalog.parse_entries(self.config.blocking, CONFIG_SECTION)
            if self.config.blocking
            else []
        )
        self._extra = {name: entry for entry in extra for name in entry.names}
        self._offloads = {**_OFFLOADS, **{name: name for name in self.config.offloads}}
        self._default = DefaultPlugin(options)
        self._state = _State()

    # -- mypy's plugin interface --

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        """Everything that changes results, so that mypy's cache is never stale for it.

        The configured lists, and a digest of the built-in catalogue and the
        plugin's version (an upgrade may change what is reported).
        """
        return {**self.config.to_data(), "catalog": _CATALOG_DIGEST}

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        # The marker types must be loaded wherever the decorators can be used.
        if file.fullname in (f"{_LIB}._offload.threads", f"{_LIB}._offload.process_pool"):
            return [(10, _MARKERS, -1)]
        return []

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        if fullname in _LAYER_BASES:
            return self._on_layer_class
        is_layer = self._state.base_kinds.get(fullname)
        if is_layer is None:
            symbol = self.lookup_fully_qualified(fullname)
            if symbol is None or not isinstance(symbol.node, TypeInfo):
                return None  # not analysed yet: ask again next time
            is_layer = self._state.base_kinds[fullname] = layer_mode(symbol.node) is not None
        return self._on_layer_class if is_layer else None

    def get_class_decorator_hook_2(self, fullname: str) -> Callable[[ClassDefContext], bool] | None:
        if fullname == _LAYER:
            return self._on_layer_decorator
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname in _MARKER_TYPES:
            return self._on_marker_decorator
        if fullname == _LAYER:
            return self._on_layer_function
        if fullname in self._offloads:
            return self._on_offload
        if fullname in self._state.function_kinds:
            kind = self._state.function_kinds[fullname]
        else:
            kind = self._state.function_kinds[fullname] = self._function_kind(fullname)
        if kind is None:
            return None

        def hook(ctx: FunctionContext) -> Type:
            self._on_call(ctx, fullname, None, kind)
            after = self._next_hook(ctx.api, "get_function_hook", fullname)
            return after(ctx) if after is not None else ctx.default_return_type

        return hook

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname in self._state.method_kinds:
            kind = self._state.method_kinds[fullname]
        else:
            kind = self._state.method_kinds[fullname] = self._method_kind(fullname)
        if kind is None:
            return None
        if kind == "route":
            return self._on_route_decorator

        def hook(ctx: MethodContext) -> Type:
            self._on_call(ctx, fullname, ctx.type, kind)
            after = self._next_hook(ctx.api, "get_method_hook", fullname)
            return after(ctx) if after is not None else ctx.default_return_type

        return hook

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        if fullname.startswith(f"{_TO_ASYNC_PROXY}."):
            name = fullname.rpartition(".")[2]
            if not name.startswith("_") and name != "wrapped":
                return lambda ctx: self._on_proxy_attribute(ctx, name)
        return None

    def _next_hook(self, api: object, getter: str, fullname: str) -> Any:
        """The hook the plugins after this one (mypy's default plugin last) have for ``fullname``.

        mypy asks its plugins in order and runs only the first hook found, so
        a call this plugin watches would otherwise lose theirs.
        """
        chain = getattr(getattr(api, "plugin", None), "_plugins", None)
        if isinstance(chain, list) and self in chain:
            for plugin in chain[chain.index(self) + 1 :]:
                hook = getattr(plugin, getter)(fullname)
                if hook is not None:
                    return hook
            return None
        return getattr(self._default, getter)(fullname)

    # -- deciding which calls to watch (once per name and build) --

    def _catalog_entry(self, name: str) -> _catalog.BlockingEntry | None:
        return self._extra.get(name) or _catalog.lookup(name)

    def _catalog_method(self, info: TypeInfo, method: str) -> _catalog.BlockingEntry | None:
        names = [base.fullname for base in info.mro]
        for class_name in names:
            found = self._extra.get(f"{class_name}.{method}")
            if found is None and not method.startswith("_"):
                found = self._extra.get(f"{class_name}.*")
            if found is not None:
                return found
        return _catalog.lookup_method(names, method)

    def _function_kind(self, fullname: str) -> str | None:
        if self._catalog_entry(fullname) is not None:
            return "catalog"
        if "." not in fullname:
            return "marker"  # a local variable: maybe an alias of a marked function
        symbol = self.lookup_fully_qualified(fullname)
        node = symbol.node if symbol is not None else None
        if isinstance(node, (Var, Decorator)):
            return "marker"
        return None

    def _method_kind(self, fullname: str) -> str | None:
        class_name, _, method = fullname.rpartition(".")
        if not class_name or class_name.startswith(("builtins.", "typing.")):
            return None
        symbol = self.lookup_fully_qualified(class_name)
        info = symbol.node if symbol is not None else None
        if not isinstance(info, TypeInfo):
            return None
        if any(info.has_base(base) for base in _ROUTER_BASES) and (
            method in _ROUTE_METHODS or method in _WEBSOCKET_METHODS
        ):
            return "route"
        if layer_mode(info) is not None:
            return "layer"
        if self._catalog_method(info, method) is not None:
            return "catalog"
        member = info.get(method)
        if member is not None and isinstance(member.node, (Var, Decorator)):
            return "marker"
        return None

    # -- reporting --

    def _fail(self, api: Any, message: str, context: Context, code: ErrorCode) -> None:
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
        watchers = getattr(getattr(api, "errors", None), "_watchers", None)
        if not watchers:
            api.fail(message, context, code=code)
            return
        saved = list(watchers)
        watchers.clear()
        try:
            api.fail(message, context, code=code)
        finally:
            watchers.extend(saved)

    # -- class definitions (semantic analysis) --

    def _on_layer_class(self, ctx: ClassDefContext) -> None:
        info = ctx.cls.info
        found = layer_mode(info)
        if found is not None:
            self._declare(ctx, info, found)

    def _on_layer_decorator(self, ctx: ClassDefContext) -> bool:
        declared = _declared_mode(ctx.reason)
        if declared is not None:
            info = ctx.cls.info
            self._declare(ctx, info, LayerMode(declared[0], declared[1], info.fullname))
        return True

    def _declare(self, ctx: ClassDefContext, info: TypeInfo, mode: LayerMode) -> None:
        info.metadata[_METADATA_KEY] = {
            "mode": mode.mode,
            "kind": mode.kind,
            "declared_by": mode.declared_by,
        }
        key = (info.fullname, id(info))
        if key in self._state.checked_classes:
            return
        sites = self._analyzed_sites(ctx, info)
        if sites is None:
            return  # deferred: a name is not defined yet; the hook runs again
        self._state.checked_classes.add(key)
        self._check_methods(ctx, info, mode)
        self._check_dependencies(ctx, info, mode, sites)

    def _check_methods(self, ctx: ClassDefContext, info: TypeInfo, mode: LayerMode) -> None:
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
                    _decorator_name(d) in _EXEMPT_DECORATORS for d in node.original_decorators
                )
            elif isinstance(node, OverloadedFuncDef) and isinstance(
                node.impl, (FuncDef, Decorator)
            ):
                definition = node.impl.func if isinstance(node.impl, Decorator) else node.impl
            if definition is None or exempt:
                continue
            is_async = definition.is_coroutine or definition.is_async_generator
            where = f'"{info.name}.{name}"'
            if mode.mode == "sync" and is_async:
                self._fail(
                    ctx.api,
                    f"{where} is an async def but {info.name} is {_a(mode.role)}; make {name} a "
                    f"plain def (a sync {mode.kind} runs in the threadpool and cannot await), or "
                    f"move it to an async layer",
                    definition,
                    LAYER_MODE,
                )
            elif mode.mode == "async" and not is_async:
                self._fail(
                    ctx.api,
                    f"{where} is a plain def but {info.name} is {_a(mode.role)}; make {name} an "
                    f"async def over an async driver; if it is a pure helper that does no I/O, "
                    f"decorate it with @pure",
                    definition,
                    LAYER_MODE,
                )

    def _dependency_sites(self, info: TypeInfo) -> Iterator[tuple[str, Type | None, Context]]:
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

    def _analyzed_sites(
        self, ctx: ClassDefContext, info: TypeInfo
    ) -> list[tuple[str, Type | None, Context]] | None:
        """The dependency sites with their types analyzed (``__init__``'s may not be yet).

        ``None`` when a type is still a placeholder: the class is deferred and
        the hook runs again once the name exists.
        """
        sites = []
        for via, typ, context in self._dependency_sites(info):
            if isinstance(typ, UnboundType):
                analyzed = ctx.api.anal_type(typ)
                if analyzed is None or has_placeholder(analyzed):
                    if ctx.api.final_iteration:
                        continue
                    ctx.api.defer()
                    return None
                typ = analyzed
            sites.append((via, typ, context))
        return sites

    def _check_dependencies(
        self,
        ctx: ClassDefContext,
        info: TypeInfo,
        mode: LayerMode,
        sites: list[tuple[str, Type | None, Context]],
    ) -> None:
        for via, typ, context in sites:
            for instance in _instances(typ):
                other = layer_mode(instance.type)
                if other is None or other.mode == mode.mode:
                    continue
                if mode.mode == "async":
                    fix = (
                        f"give {info.name} an async {other.kind} (over an async driver such as "
                        f"SQLAlchemy's AsyncSession), or make {info.name} a sync {mode.kind}; "
                        f"async code reaches sync layers only through to_async(...) or "
                        f"await run_blocking(...)"
                    )
                else:
                    fix = (
                        f"a sync {mode.kind} cannot await: give {info.name} a sync {other.kind} "
                        f"(over a blocking driver), or make {info.name} async"
                    )
                self._fail(
                    ctx.api,
                    f'{info.name} ({mode.role}) takes "{instance.type.name}" '
                    f"({other.role}) through {via}; {fix}",
                    context if context.line > 0 else ctx.cls,
                    LAYER_DEPENDENCY,
                )

    # -- decorators (type checking) --

    def _decorator_of(self, api: TypeChecker, expression: Context) -> Decorator | None:
        if isinstance(expression, Decorator):
            return expression
        return self._index(api).by_expression.get(id(expression))

    def _index(self, api: TypeChecker) -> _DecoratorIndex:
        tree = api.tree
        cached = self._state.indexes.get(tree.fullname)
        if cached is not None and cached[0] is tree:
            return cached[1]
        index = _DecoratorIndex(tree)
        self._state.indexes[tree.fullname] = (tree, index)
        return index

    def _on_marker_decorator(self, ctx: FunctionContext) -> Type:
        """``@blocking``/``@cpu_bound``: refuse an async def, carry the marker in the type.

        Bare, the hook sees the decorator applied to the function (its context
        is the ``Decorator``); as a factory (``@blocking(limiter=...)``) it sees
        the factory call, and returns a callable that gives the marked type.
        """
        api = ctx.api
        default = ctx.default_return_type
        if not isinstance(api, TypeChecker):
            return default
        context = ctx.context
        if isinstance(context, Decorator):
            decorator: Decorator | None = context
            marker = next(
                (
                    _decorator_name(d)
                    for d in context.original_decorators
                    if _decorator_name(d) in _MARKER_TYPES
                ),
                _BLOCKING,
            )
        elif isinstance(context, CallExpr):
            marker = _decorator_name(context)
            if ctx.callee_arg_names[:1] == ["func"] and ctx.args[0]:
                return self._marked(api, default, marker)  # blocking(func): a plain call
            decorator = self._decorator_of(api, context)
        else:
            return default
        if decorator is None:
            return default
        if _is_async(decorator.func):
            blocking = marker == _BLOCKING
            fix = (
                "an async def is not blocking (await it); put @blocking on the sync function "
                "that does the blocking I/O"
                if blocking
                else "define a plain def at module level and run it with await run_cpu(...)"
            )
            self._fail(
                api,
                f"{'@blocking' if blocking else '@cpu_bound'} marks sync functions; "
                f'"{decorator.func.name}" is an async def. Fix: {fix}',
                decorator.func,
                MARKER,
            )
        elif marker == _CPU_BOUND:
            self._check_process_target(api, decorator.func)
        if isinstance(context, Decorator):
            return self._marked(api, default, marker)
        # The factory form: when it is the innermost decorator, the function's own
        # type is what it receives, so its result can carry the marker.
        signature = decorator.func.type
        if decorator.original_decorators[-1] is context and isinstance(signature, CallableType):
            return CallableType(
                [AnyType(TypeOfAny.implementation_artifact)],
                [ARG_POS],
                [None],
                self._marked(api, signature, marker),
                api.named_generic_type("builtins.function", []),
            )
        return default

    def _check_process_target(self, api: TypeChecker, function: FuncDef) -> None:
        """What ``@cpu_bound`` refuses at decoration and the types show: closures, generators."""
        outer = _current_function(api)
        if outer is not None:
            problem = (
                f"it is defined inside {outer.name}(): a worker imports functions by module and "
                f"name, and a nested function or closure has none",
                "move it to module level and pass what it uses as arguments",
            )
        elif function.is_generator:
            problem = (
                "it is a generator function; the generator it returns cannot be sent back",
                "return a list (or run_cpu one chunk per call)",
            )
        else:
            return
        self._fail(
            api,
            f'@cpu_bound cannot mark "{function.name}": {problem[0]}. Fix: {problem[1]}',
            function,
            MARKER,
        )

    def _marked(self, api: TypeChecker, typ: Type, marker: str) -> Type:
        """``typ`` with the marker's fallback, when it is a plain function type."""
        proper = get_proper_type(typ)
        marker_type = _MARKER_TYPES.get(marker)
        if marker_type is None or not isinstance(proper, CallableType):
            return typ
        if proper.is_type_obj() or proper.fallback.type.fullname != "builtins.function":
            return typ
        symbol = self.lookup_fully_qualified(marker_type)
        if symbol is None or not isinstance(symbol.node, TypeInfo):
            return typ
        return proper.copy_modified(fallback=Instance(symbol.node, []))

    def _on_layer_function(self, ctx: FunctionContext) -> Type:
        """``@layer("sync")`` on a function of the other mode."""
        api = ctx.api
        if isinstance(api, TypeChecker):
            decorator = self._decorator_of(api, ctx.context)
            declared = _declared_mode(ctx.context) if isinstance(ctx.context, CallExpr) else None
            if decorator is not None and declared is not None:
                is_async = _is_async(decorator.func)
                if (declared[0] == "async") != is_async:
                    actual = "an async def" if is_async else "a plain def"
                    wanted = "an async def" if declared[0] == "async" else "a plain def"
                    role = _a(f"{declared[0]} {declared[1]}")
                    self._fail(
                        api,
                        f'"{decorator.func.name}" is declared {role} but '
                        f"is {actual}; make it {wanted}, or declare it "
                        f"@layer('{'async' if is_async else 'sync'}')",
                        decorator.func,
                        LAYER_MODE,
                    )
        return ctx.default_return_type

    def _on_route_decorator(self, ctx: MethodContext) -> Type:
        """``@router.get(...)``: the endpoint's mode against the router's and its dependencies."""
        api = ctx.api
        if isinstance(api, TypeChecker):
            decorator = self._decorator_of(api, ctx.context)
            if decorator is not None:
                self._check_endpoint(api, ctx.type, decorator, ctx.context)
        return ctx.default_return_type

    def _check_endpoint(
        self, api: TypeChecker, router: ProperType, decorator: Decorator, call: Context
    ) -> None:
        function = decorator.func
        is_async = _is_async(function)
        mode = "async" if is_async else "sync"
        name = function.name
        router_mode = None
        router_name = ""
        if isinstance(router, Instance):
            router_name = router.type.name
            for base, declared in _ROUTERS.items():
                if router.type.has_base(base):
                    router_mode = declared
        websocket = (
            isinstance(call, CallExpr)
            and isinstance(call.callee, MemberExpr)
            and (call.callee.name in _WEBSOCKET_METHODS)
        )
        if router_mode is not None and router_mode != mode:
            if router_mode == "sync":
                fix = (
                    f"make {name} a plain def (FastAPI runs it in the threadpool), or add it to "
                    f"an AsyncRouter if it only awaits async drivers"
                )
            elif websocket:
                fix = f"websocket endpoints are async: add {name} to an AsyncRouter"
            else:
                fix = (
                    f"make {name} an async def that awaits async layers, or add it to a "
                    f"SyncRouter if it uses blocking libraries"
                )
            self._fail(
                api,
                f'endpoint "{name}" is {"an async def" if is_async else "a plain def"} but its '
                f"router is {_a(router_name)} ({router_mode}); {fix}",
                function,
                ROUTE_MODE,
            )
        typ = function.type
        if not isinstance(typ, CallableType):
            return
        for param, param_type in zip(function.arg_names, typ.arg_types, strict=False):
            for instance in _instances(param_type):
                other = layer_mode(instance.type)
                if other is None or other.mode == mode:
                    continue
                if is_async:
                    fix = (
                        f"depend on an async {other.kind}, hand {name} to_async(...) of it, or "
                        f"make {name} a plain def (on a SyncRouter) so the whole request stays sync"
                    )
                else:
                    fix = (
                        f"{name} cannot await {instance.type.name}: give it a sync {other.kind}, "
                        f"or make {name} an async def (on an AsyncRouter)"
                    )
                self._fail(
                    api,
                    f'endpoint "{name}" ({mode}) depends on "{instance.type.name}" '
                    f'({other.role}) through parameter "{param}"; {fix}',
                    function,
                    ENDPOINT_DEPENDENCY,
                )

    # -- call sites (type checking) --

    def _on_call(
        self,
        ctx: FunctionContext | MethodContext,
        fullname: str,
        receiver: ProperType | None,
        kind: str,
    ) -> None:
        api = ctx.api
        if not isinstance(api, TypeChecker):
            return
        function = _current_function(api)
        if function is None:
            return
        call = ctx.context
        if function.is_coroutine:
            self._check_blocking(api, function, call, fullname, receiver, kind)
        elif kind == "layer" and isinstance(receiver, Instance):
            self._check_async_from_sync(api, function, call, fullname, receiver)

    def _callee_type(self, api: TypeChecker, call: Context) -> Type | None:
        if isinstance(call, CallExpr) and api.has_type(call.callee):
            return api.lookup_type(call.callee)
        return None

    def _check_blocking(
        self,
        api: TypeChecker,
        function: FuncItem,
        call: Context,
        fullname: str,
        receiver: ProperType | None,
        kind: str,
    ) -> None:
        caller = f'"{_function_label(function)}" (async)'
        callee_text = _text(call.callee) if isinstance(call, CallExpr) else fullname
        marker = _marker_of(self._callee_type(api, call))
        if marker is not None:
            if marker == "@blocking":
                fix = f"offload it: await run_blocking({callee_text}, ...)"
            else:
                fix = f"run it in a worker process: await run_cpu({callee_text}, ...)"
            self._fail(
                api,
                f'{caller} calls "{callee_text}", marked {marker}, on the event loop; {fix}',
                call,
                BLOCKING_CALL,
            )
            return
        method = fullname.rpartition(".")[2]
        if kind == "layer" and isinstance(receiver, Instance):
            mode = layer_mode(receiver.type)
            if mode is None or mode.mode != "sync":
                return
            owner = receiver.type.name
            target = receiver.type.get(method)
            if target is not None and isinstance(target.node, Var) and target.node.is_property:
                return
            receiver_text = (
                _text(call.callee.expr)
                if isinstance(call, CallExpr) and isinstance(call.callee, MemberExpr)
                else owner
            )
            self._fail(
                api,
                f'{caller} calls blocking "{owner}.{method}" of {mode.role} {owner}; offload '
                f"it: await run_blocking({receiver_text}.{method}, ...) or use "
                f"to_async({receiver_text}), or make {_function_label(function)} a plain def",
                call,
                BLOCKING_CALL,
            )
            return
        entry = None
        if kind == "catalog":
            if isinstance(receiver, Instance):
                entry = self._catalog_method(receiver.type, method)
            elif receiver is None:
                entry = self._catalog_entry(fullname)
        if entry is not None:
            self._fail(
                api,
                f'{caller} calls blocking "{entry.name}" ({entry.category}) on the event loop; '
                f"{entry.fix}",
                call,
                BLOCKING_CALL,
            )

    def _check_async_from_sync(
        self,
        api: TypeChecker,
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
        if target is None or not _is_async(target.node):
            return
        where = None
        if isinstance(function, FuncDef) and function.info is not FUNC_NO_INFO:
            owner_info = function.info
            caller_mode = layer_mode(owner_info)
            if caller_mode is not None and caller_mode.mode == "sync":
                where = f"{caller_mode.role} {owner_info.name}"
        if where is None and self._is_endpoint(api, function):
            where = "def endpoint"
        if where is None:
            return
        owner = receiver.type.name
        self._fail(
            api,
            f'"{_function_label(function)}" ({where}) calls "{owner}.{method}" of '
            f"{mode.role} {owner}: the coroutine is never awaited; depend on a sync layer "
            f"there, or make {_function_label(function)} an async def in async code",
            call,
            ASYNC_FROM_SYNC,
        )

    def _is_endpoint(self, api: TypeChecker, function: FuncItem) -> bool:
        """Whether ``function`` is decorated with ``@<router or app>.<route method>(...)``."""
        decorator = self._index(api).by_function.get(id(function))
        if decorator is None:
            return False
        for expression in decorator.original_decorators:
            if not (isinstance(expression, CallExpr) and isinstance(expression.callee, MemberExpr)):
                continue
            if expression.callee.name not in _ROUTE_METHODS:
                continue
            base = expression.callee.expr
            node = base.node if isinstance(base, RefExpr) else None
            typ = node.type if isinstance(node, Var) else None
            for instance in _instances(typ):
                if any(instance.type.has_base(name) for name in _ROUTER_BASES):
                    return True
        return False

    def _on_offload(self, ctx: FunctionContext) -> Type:
        """An ``async def`` handed to a thread offload never runs."""
        api = ctx.api
        if (
            isinstance(api, TypeChecker)
            and ctx.args
            and ctx.args[0]
            and isinstance(ctx.context, CallExpr)
        ):
            target = ctx.args[0][0]
            typ = get_proper_type(api.lookup_type(target)) if api.has_type(target) else None
            node = target.node if isinstance(target, RefExpr) else None
            is_async = _is_async(node) or _returns_coroutine(typ)
            if is_async:
                offload = _text(ctx.context.callee)
                name = _text(target)
                self._fail(
                    api,
                    f'{offload}() is given "{name}", an async def: a worker thread would only '
                    f"create the coroutine and never run it. Fix: await {name}(...) directly; "
                    f"{offload}() is for sync callables",
                    target,
                    OFFLOAD,
                )
        return ctx.default_return_type

    # -- to_async(service).method(...) --

    def _on_proxy_attribute(self, ctx: AttributeContext, name: str) -> Type:
        """``AsyncProxy[S].name``: S's method with the same parameters, returning a coroutine."""
        proxy = get_proper_type(ctx.type)
        api = ctx.api
        if not (isinstance(proxy, Instance) and proxy.args and isinstance(api, TypeChecker)):
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
        if _is_async(node):
            self._fail(
                api,
                f'"{target.type.name}.{name}" is already an async def; to_async() proxies sync '
                f"methods. Fix: await it on the object itself",
                ctx.context,
                OFFLOAD,
            )
            return ctx.default_attr_type
        signature = _bound_signature(node, target)
        if signature is None:
            return ctx.default_attr_type
        coroutine = api.named_generic_type(
            "typing.Coroutine",
            [
                AnyType(TypeOfAny.implementation_artifact),
                AnyType(TypeOfAny.implementation_artifact),
                signature.ret_type,
            ],
        )
        return signature.copy_modified(
            ret_type=coroutine,
            fallback=api.named_generic_type("builtins.function", []),
        )


def _current_function(api: TypeChecker) -> FuncItem | None:
    """The innermost function (a lambda or nested def included) being checked.

    ``scope.current_function()`` in mypy 1.16+, ``top_function()`` before: the
    stack both read is the portable part.
    """
    for item in reversed(api.scope.stack):
        if isinstance(item, FuncItem):
            return item
    return None


def _returns_coroutine(typ: ProperType | None) -> bool:
    if isinstance(typ, CallableType):
        ret = get_proper_type(typ.ret_type)
        return isinstance(ret, Instance) and ret.type.fullname in (
            "typing.Coroutine",
            "typing.AsyncGenerator",
            "typing.AsyncIterator",
        )
    return False


def _attribute_type(node: Var, owner: Instance) -> Type | None:
    from mypy.expandtype import expand_type_by_instance
    from mypy.maptype import map_instance_to_supertype

    if node.type is None or node.info is None:
        return None
    return expand_type_by_instance(node.type, map_instance_to_supertype(owner, node.info))


def _bound_signature(node: SymbolNode, owner: Instance) -> CallableType | None:
    from mypy.expandtype import expand_type_by_instance
    from mypy.maptype import map_instance_to_supertype

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
    expanded = get_proper_type(expand_type_by_instance(typ, map_instance_to_supertype(owner, info)))
    if not isinstance(expanded, CallableType):
        return None
    bound = expanded if is_static else bind_self(expanded, owner)
    return bound if isinstance(bound, CallableType) else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: ``plugins = fastapi_boundary.mypy``."""
    return BoundaryPlugin
