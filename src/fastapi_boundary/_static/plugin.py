"""The plugin class: mypy asks it for hooks by fullname; it decides which, and dispatches.

What each hook checks lives in ``class_checks``, ``marker_checks``,
``endpoint_checks``, ``call_checks`` and ``proxy_types``; the per-build state
(configuration, caches) in a `BuildState` the plugin holds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mypy.nodes import Decorator, FuncDef, MypyFile, OverloadedFuncDef, SymbolNode, TypeInfo, Var
from mypy.options import Options
from mypy.plugin import (
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import Type

from . import call_checks, class_checks, compat, endpoint_checks, fullnames, marker_checks
from .config import load_config, report_data
from .effects import Summaries
from .nodes import configure_layers, configured_mode, layer_mode
from .proxy_types import on_proxy_attribute
from .state import BuildState

__all__ = ["BoundaryPlugin"]


class BoundaryPlugin(Plugin):
    """Hooks dispatched by fullname; see ``fastapi_boundary.mypy`` for the rules."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.config = load_config(compat.config_file(options))
        configure_layers(self.config.layers)
        self._state = BuildState.create(self.config, self.lookup_fully_qualified)
        self._state.summaries = Summaries(self._state, lambda: compat.build_modules(self), options)
        self._offloads = fullnames.THREAD_OFFLOADS | fullnames.PROCESS_OFFLOADS
        self._offloads |= frozenset(self.config.offloads)
        self._default = compat.default_plugin(options)
        self._after: dict[tuple[str, str], Any] = {}

    # -- mypy's plugin interface --

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        """Everything that changes results, so that mypy's cache is never stale for it.

        mypy also asks when it is about to write a module (``is_check`` false):
        mypy 2 writes a module's interface before it checks the bodies, so the
        module's blocking effects are computed here, to be written with it.
        """
        if not ctx.is_check and self._state.summaries is not None:
            tree = compat.build_modules(self).get(ctx.id)
            if tree is not None and compat.bodies_present(tree):
                self._state.summaries.ensure(tree)
        return report_data(self.config)

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        # The marker types must be loaded wherever the decorators can be used.
        if file.fullname in fullnames.MARKER_HOSTS:
            return [(10, fullnames.MARKER_MODULE, -1)]
        return []

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        is_layer = fullname in fullnames.LAYER_BASES or self._state.base_kinds.get(fullname)
        if is_layer is None:
            info = self._state.type_info(fullname)
            if info is None:
                return None  # not analysed yet: ask again next time
            is_layer = self._state.base_kinds[fullname] = layer_mode(info) is not None
        return functools.partial(class_checks.on_layer_class, self._state) if is_layer else None

    def get_customize_class_mro_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        # called for every class: a class the configuration declares is checked as a layer
        if not self.config.layers:
            return None
        mode = configured_mode(fullname)
        if mode is None:
            return None
        return functools.partial(class_checks.on_configured_class, self._state, mode)

    def get_class_decorator_hook_2(self, fullname: str) -> Callable[[ClassDefContext], bool] | None:
        if fullname == fullnames.LAYER:
            return functools.partial(class_checks.on_layer_decorator, self._state)
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname in fullnames.MARKER_TYPES:
            return functools.partial(marker_checks.on_marker_decorator, self._state)
        if fullname == fullnames.LAYER:
            return functools.partial(class_checks.on_layer_function, self._state)
        if fullname in self._offloads:
            return lambda ctx: call_checks.on_offload(self._state, ctx, fullname)
        kinds = self._state.function_kinds
        if fullname not in kinds:
            kinds[fullname] = self._function_kind(fullname)
        kind = kinds[fullname]
        if kind is None:
            return None

        def hook(ctx: FunctionContext) -> Type:
            call_checks.on_call(self._state, ctx, fullname, None, kind)
            after = self._next_hook(ctx.api, "get_function_hook", fullname)
            return after(ctx) if after is not None else ctx.default_return_type

        return hook

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        kinds = self._state.method_kinds
        if fullname not in kinds:
            kinds[fullname] = self._method_kind(fullname)
        kind = kinds[fullname]
        if kind is None:
            return None
        if kind == "route":
            return functools.partial(endpoint_checks.on_route_decorator, self._state)

        def hook(ctx: MethodContext) -> Type:
            call_checks.on_call(self._state, ctx, fullname, ctx.type, kind)
            after = self._next_hook(ctx.api, "get_method_hook", fullname)
            return after(ctx) if after is not None else ctx.default_return_type

        return hook

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        if fullname.startswith(f"{fullnames.ASYNC_PROXY}."):
            name = fullname.rpartition(".")[2]
            if not name.startswith("_") and name != "wrapped":
                return lambda ctx: on_proxy_attribute(self._state, ctx, name)
        return None

    def _next_hook(self, api: object, getter: str, fullname: str) -> Any:
        """The hook the plugins after this one (mypy's default plugin last) have for ``fullname``.

        mypy asks its plugins in order and runs only the first hook found, so
        a call this plugin watches would otherwise lose theirs.
        """
        key = (getter, fullname)
        if key in self._after:
            return self._after[key]
        after = compat.next_plugins(api, self)
        found = None
        for plugin in after if after is not None else [self._default]:
            found = getattr(plugin, getter)(fullname)
            if found is not None:
                break
        self._after[key] = found  # the chain of plugins is fixed for the build
        return found

    # -- deciding which calls to watch (once per name and build) --

    def _function_kind(self, fullname: str) -> str | None:
        if self._state.catalog_entry(fullname) is not None or fullname in fullnames.BLOCKING_WITH:
            return "catalog"
        if "." not in fullname:
            return "marker"  # a local variable: maybe an alias of a marked function
        symbol = self.lookup_fully_qualified(fullname)
        node = symbol.node if symbol is not None else None
        if isinstance(node, (Var, Decorator)):
            return "marker"  # and, for a decorated function of the project, its effect
        if isinstance(node, TypeInfo) and self._state.catalog_constructor(node) is not None:
            return "catalog"
        return self._effect_kind(node)

    def _effect_kind(self, node: SymbolNode | None) -> str | None:
        """``effect`` for a sync function, method or class of the project: it may block."""
        if not isinstance(node, (FuncDef, OverloadedFuncDef, TypeInfo)):
            return None
        summaries = self._state.summaries
        return "effect" if summaries is not None and summaries.is_project_callee(node) else None

    def _method_kind(self, fullname: str) -> str | None:
        class_name, _, method = fullname.rpartition(".")
        if not class_name or class_name.startswith(("builtins.", "typing.")):
            return None
        info = self._state.type_info(class_name)
        if info is None:
            return None
        if any(info.has_base(base) for base in fullnames.ROUTER_BASES) and (
            method in fullnames.ROUTE_METHODS or method in fullnames.WEBSOCKET_METHODS
        ):
            return "route"
        if layer_mode(info) is not None:
            return "layer"
        if self._state.catalog_method(info, method) is not None:
            return "catalog"
        member = info.get(method)
        if member is not None and isinstance(member.node, (Var, Decorator)):
            return "marker"
        return self._effect_kind(member.node if member is not None else None)
