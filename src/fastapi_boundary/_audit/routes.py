"""Turning a FastAPI route into a `RouteReport`: its tree and its violations.

The tree is FastAPI's own ``Dependant`` (router-level and path-level
dependencies included), so what is audited is exactly what FastAPI runs.
Nothing here may crash on an odd callable: what cannot be classified is
reported as such.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Callable, Collection, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute

from .._common.declarations import LayerInfo
from .._common.modes import Mode, shape_of
from .._common.sites import UNKNOWN, Site, display_name
from .._common.violations import Party, Violation
from . import annotations as refs
from . import config_layers
from .report import DependencyNode, RouteReport
from .rules import endpoint_mode_mismatch, route_dependency_mismatch

__all__ = [
    "declare_route_mode",
    "declared_route_mode",
    "flatten_routes",
    "inspect_route",
    "inspect_routes",
    "layer_owners_in",
    "route_is_clean",
]

# endpoint -> its declared router: mode, router class name, where the router was created.
# Weak, so that endpoints of discarded routers (tests, reloads) are not kept alive.
Declared = tuple[Mode, str, Site]
_declared: weakref.WeakKeyDictionary[Any, Declared] = weakref.WeakKeyDictionary()
_declared_strong: dict[int, tuple[Any, Declared]] = {}  # endpoints that refuse weak refs
_FRAMEWORK_MODULES = ("fastapi.applications", "fastapi.openapi")


def declare_route_mode(endpoint: Any, declared: Declared) -> None:
    try:
        _declared[endpoint] = declared
    except TypeError:
        _declared_strong[id(endpoint)] = (endpoint, declared)


def declared_route_mode(endpoint: Any) -> Declared | None:
    try:
        return _declared.get(endpoint)
    except TypeError:
        entry = _declared_strong.get(id(endpoint))
        return entry[1] if entry is not None and entry[0] is endpoint else None


_signatures: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _parameter_annotations(call: Any) -> dict[str, Any]:
    """A callable's parameter types as FastAPI reads them (cached: layers recur across routes)."""
    try:
        cached = _signatures.get(call)
    except TypeError:
        cached = None
    if cached is None:
        cached = _read_parameter_annotations(call)
        with contextlib.suppress(TypeError):
            _signatures[call] = cached
    return cached


def _read_parameter_annotations(call: Any) -> dict[str, Any]:
    try:
        from fastapi.dependencies.utils import get_typed_signature

        signature = get_typed_signature(call)
    except Exception:
        try:
            signature = inspect.signature(call)
        except (TypeError, ValueError):
            return {}
    return {
        name: parameter.annotation
        for name, parameter in signature.parameters.items()
        if parameter.annotation is not inspect.Parameter.empty
    }


class _ParameterType:
    """The declared type of one parameter of ``parent``, read only if it is needed."""

    __slots__ = ("name", "parent")

    def __init__(self, parent: Any, name: str | None) -> None:
        self.parent = parent
        self.name = name

    def __call__(self) -> Any:
        return _parameter_annotations(self.parent).get(self.name or "")


def _provided_layer(
    call: Any, parameter_annotation: Callable[[], Any] | None
) -> tuple[LayerInfo, object, bool] | None:
    """The layer a node is, or provides: by its return annotation, else its parameter's type."""
    declared = config_layers.layer_of(call)
    if declared is not None:
        return declared[0], declared[1], False
    for found in refs.provider_returns(call):
        if isinstance(found, refs.LayerReference):
            return found.info, found.target, True
    annotation = parameter_annotation() if parameter_annotation is not None else None
    if annotation is not None:
        for found in refs.references_in(annotation, refs.module_of(call), {}):
            if isinstance(found, refs.LayerReference):
                return found.info, found.target, True
    return None


def _note_for(call: Any, classified: bool, is_layer: bool) -> str | None:
    if not classified:
        return f"unclassified: {type(call).__name__} is not callable"
    boundary = None if is_layer else refs.offload_target(call)
    return f"offload boundary: hands out {boundary}" if boundary else None


def _node(
    dependant: Any, name: str, parameter_annotation: Callable[[], Any] | None
) -> DependencyNode:
    call = dependant.call
    try:
        shape = shape_of(call)
        layer = _provided_layer(call, parameter_annotation)
        node = DependencyNode(
            name=name,
            call=display_name(call),
            shape=shape.shape.value if shape.mode else "unclassified",
            mode=shape.mode,
            layer=layer[0] if layer else None,
            layer_name=display_name(layer[1]) if layer else None,
            provides=layer[2] if layer else False,
            note=_note_for(call, shape.mode is not None, layer is not None),
            use_cache=bool(getattr(dependant, "use_cache", True)),
            call_object=call,
            layer_owner=layer[1] if layer else None,
        )
    except Exception as error:  # never crash the audit on an odd callable
        return DependencyNode(
            name=name,
            call=repr(call),
            shape="unclassified",
            mode=None,
            known_site=UNKNOWN,
            note=f"unclassified: could not be inspected ({type(error).__name__}: {error})",
        )
    for child in dependant.dependencies:
        child_name = child.name or "<dependencies=[...]>"
        node.children.append(_node(child, child_name, _ParameterType(call, child.name)))
    return node


def _consumer(node: DependencyNode, is_endpoint: bool, mode: Mode) -> Party:
    role = f"{mode.value} {'endpoint' if is_endpoint else 'dependency'}"
    return Party(role, node.call, mode, node.site)


def _tree_violations(label: str, root_mode: Mode | None, root: DependencyNode) -> list[Violation]:
    """Every edge where a layer or driver is handed to a receiver of the other mode."""
    found: list[Violation] = []

    def visit(
        node: DependencyNode, consumer_mode: Mode | None, chain: tuple[str, ...], own: int
    ) -> None:
        # ``chain`` runs from the endpoint to ``node``, whose own names are its last ``own``
        for child in node.children:
            link = (*chain, child.layer_name or child.call)
            if child.layer_name and child.call != child.layer_name:
                link = (*chain, child.call, child.layer_name)
            if child.layer and consumer_mode and child.layer.mode is not consumer_mode:
                found.append(
                    route_dependency_mismatch(
                        label,
                        _consumer(node, node is root, consumer_mode),
                        link,
                        child.layer_owner,
                        child.layer,
                        child.call_object if child.provides else None,
                        consumer_at=len(chain) - own,
                    )
                )
            visit(child, child.effective_mode, link, len(link) - len(chain))

    visit(root, root_mode, (root.call,), 1)
    return found


# call -> {mode it is consumed in: whether everything below it is clean}
_clean_below: weakref.WeakKeyDictionary[Any, dict[Mode | None, bool]] = weakref.WeakKeyDictionary()
config_layers.on_change(_clean_below.clear)


def _subtree_clean(dependant: Any, consumer_mode: Mode | None) -> bool:
    """True when no layer or driver below ``dependant`` meets a receiver of the other mode.

    The tree below a callable is derived from its signature alone, and the
    same providers recur across routes, so the answer is kept per callable
    and per the mode its children are received in.
    """
    parent = dependant.call
    for child in dependant.dependencies:
        call = child.call
        layer = _provided_layer(call, _ParameterType(parent, child.name))
        if layer is not None and consumer_mode is not None and layer[0].mode is not consumer_mode:
            return False
        child_mode = layer[0].mode if layer is not None else shape_of(call).mode
        try:
            known = _clean_below.setdefault(call, {})
        except TypeError:  # not weak-referenceable: no cache
            known = {}
        clean = known.get(child_mode)
        if clean is None:
            clean = known[child_mode] = _subtree_clean(child, child_mode)
        if not clean:
            return False
    return True


def layer_owners_in(dependant: Any, among: Collection[object]) -> set[object]:
    """The layers of ``among`` that the tree below ``dependant`` is or provides."""
    found: set[object] = set()
    pending = [dependant]
    while pending:
        node = pending.pop()
        for child in node.dependencies:
            layer = _provided_layer(child.call, _ParameterType(node.call, child.name))
            if layer is not None and layer[1] in among:
                found.add(layer[1])
            pending.append(child)
    return found


def route_is_clean(route: Any, declared_mode: Mode) -> bool:
    """The fast check of a route added to a declared router: no report, no messages.

    Only when it fails is the full report built (``inspect_route``), to say
    what is wrong; both walk the same tree with the same helpers.
    """
    endpoint = getattr(route, "endpoint", None)
    dependant = getattr(route, "dependant", None)
    if endpoint is None or dependant is None:
        return True
    mode = shape_of(endpoint).mode
    if mode is not None and mode is not declared_mode:
        return False
    return _subtree_clean(dependant, declared_mode)


def _is_websocket(route: object) -> bool:
    return isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute"


def inspect_route(
    route: Any, prefix: str = "", declared: Declared | None = None, original: Any = None
) -> RouteReport | None:
    """Audit one route; ``None`` for FastAPI's own documentation routes.

    ``route`` is read for its attributes (path, methods, endpoint, dependant);
    ``original`` is the route object as the user declared it, when FastAPI
    presents an included route through a context object.
    """
    original = route if original is None else original
    endpoint = getattr(route, "endpoint", None)
    if getattr(endpoint, "__module__", None) in _FRAMEWORK_MODULES:
        return None
    dependant = getattr(route, "dependant", None)
    path = prefix + (getattr(route, "path", "") or "")
    methods = tuple(sorted(getattr(route, "methods", None) or ()))
    kind = "websocket" if _is_websocket(original) else "http" if dependant is not None else "route"
    if declared is None and endpoint is not None:
        declared = declared_route_mode(endpoint)
    report = RouteReport(
        kind=kind,
        path=path,
        methods=methods,
        name=getattr(route, "name", None),
        declared_mode=declared[0] if declared else None,
        endpoint=None,
        validates_response=getattr(route, "response_field", None) is not None,
    )
    if dependant is not None:
        report.endpoint = _node(dependant, "endpoint", None)
    elif endpoint is not None:
        report.endpoint = _node(_Bare(endpoint), "endpoint", None)
    else:
        report.note = f"{type(original).__name__} has no endpoint to inspect"
        return report
    root = report.endpoint
    if declared is not None and root.mode is not None and root.mode is not declared[0]:
        report.violations.append(
            endpoint_mode_mismatch(report.label, declared, endpoint, shape_of(endpoint))
        )
    report.violations.extend(_tree_violations(report.label, report.mode, root))
    return report


class _Bare:
    """A starlette route's endpoint seen as a dependency tree with no children."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.dependencies: list[Any] = []


def flatten_routes(routes: Iterable[Any]) -> Iterable[tuple[Any, Any]]:
    """Yield ``(view, original)`` for each route, expanding included routers.

    FastAPI >= 0.165 keeps an included router as one lazy entry and exposes
    its effective routes through ``iter_route_contexts``; older versions
    copy the routes into the parent.  Both are handled.
    """
    import fastapi.routing

    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:
        for route in routes:
            yield route, route
        return
    for context in iter_contexts(list(routes)):
        yield context, context.original_route


def _mount(original: Mount | Host, path: str, note: str) -> RouteReport:
    return RouteReport(
        kind="mount",
        path=path or "/",
        methods=(),
        name=getattr(original, "name", None),
        declared_mode=None,
        endpoint=None,
        note=note,
    )


def inspect_routes(routes: Iterable[Any], prefix: str = "") -> Iterable[RouteReport]:
    """Audit routes, descending into included routers, mounts and hosts.

    A mounted app the audit cannot look into (not a router, or one with no
    route of its own) yields one report of kind ``"mount"`` that says so.
    """
    for view, original in flatten_routes(routes):
        if isinstance(original, (Mount, Host)):
            mount_prefix = prefix + (getattr(view, "path", "") or "")
            sub_routes = _sub_routes(original)
            app = display_name(original.app)
            if sub_routes is None:
                note = f"mounted ASGI app {app} is not a router: not inspected"
                yield _mount(original, mount_prefix, note)
                continue
            found = False
            for sub in inspect_routes(sub_routes, mount_prefix):
                found = True
                yield sub
            if not found:
                note = f"mounted app {app} is empty: it has no routes (besides documentation)"
                yield _mount(original, mount_prefix, note)
        elif isinstance(original, (Route, WebSocketRoute)) or hasattr(view, "dependant"):
            report = inspect_route(view, prefix, original=original)
            if report is not None:
                yield report
        else:
            yield RouteReport(
                kind="route",
                path=prefix + (getattr(view, "path", "") or ""),
                methods=(),
                name=getattr(view, "name", None),
                declared_mode=None,
                endpoint=None,
                note=f"{type(original).__name__} is not a route type the audit knows",
            )


def _sub_routes(route: Mount | Host) -> list[BaseRoute] | None:
    """The routes of a mounted router or app (maybe none); ``None`` when it has no router."""
    try:
        routes = route.routes
    except Exception:
        return None
    if routes:
        return list(routes)
    app = route.app
    is_router = isinstance(app, (Starlette, Router)) or isinstance(
        getattr(app, "router", None), Router
    )
    return [] if is_router else None
