"""Turning a FastAPI route into a `RouteReport`: its tree and its violations.

The tree is FastAPI's own ``Dependant`` (router-level and path-level
dependencies included), so what is audited is exactly what FastAPI runs.
Nothing here may crash on an odd callable: what cannot be classified is
reported as such.
"""

from __future__ import annotations

import contextlib
import inspect
import types
import typing
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
from .drivers import driver_info
from .loop_rules import held_dependency_mismatch
from .report import DependencyNode, RouteReport
from .rules import endpoint_mode_mismatch, route_dependency_mismatch

__all__ = [
    "Held",
    "class_holds",
    "declare_route_mode",
    "declared_route_mode",
    "flatten_routes",
    "inspect_route",
    "inspect_routes",
    "layer_owners_in",
    "route_is_clean",
    "served_routes",
]

# endpoint -> its declared router: mode, router class name, where the router was created.
# Weak, so that endpoints of discarded routers (tests, reloads) are not kept alive.
Declared = tuple[Mode, str, Site]
_declared: weakref.WeakKeyDictionary[Any, Declared] = weakref.WeakKeyDictionary()
_declared_strong: dict[int, tuple[Any, Declared]] = {}  # endpoints that refuse weak refs
_FRAMEWORK_MODULES = ("fastapi.applications", "fastapi.openapi")
_UNION: object = getattr(types, "UnionType", None)  # X | Y


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
    """Every edge where a layer or driver is handed to a receiver of the other mode.

    Handed over directly, or held by a plain object the receiver gets: a class
    FastAPI constructs (a class-based view's ``self: Controller = Depends()``)
    or a provider's plain class (``-> ItemStore``), whose constructor takes it.
    """
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
            if child.layer is None and consumer_mode is not None:
                for held in _held_by_node(node.call_object, child):
                    if held.info.mode is not consumer_mode:
                        found.append(
                            held_dependency_mismatch(
                                label,
                                _consumer(node, node is root, consumer_mode),
                                (*chain, child.call, *held.links),
                                held,
                                consumer_at=len(chain) - own,
                            )
                        )
            # a plain class FastAPI constructs only holds what it is given: its consumer uses it
            mode = None if _plain_class_node(child) else child.effective_mode
            visit(child, mode, link, len(link) - len(chain))

    if root_mode is not None and root.layer is None:
        for held in _held_by_self(root.call_object):
            if held.info.mode is not root_mode:
                consumer = _consumer(root, True, root_mode)
                found.append(
                    held_dependency_mismatch(label, consumer, (root.call, *held.links), held)
                )
    visit(root, root_mode, (root.call,), 1)
    return found


# --- objects that hold a layer or driver: what a plain class's constructor takes ----------


class Held:
    """A layer or driver that a plain object holds, and how: ``holder``'s constructor takes it.

    ``links`` name the chain from the holder on (``Controller, get_session, Session``).
    """

    __slots__ = ("holder", "info", "links", "target", "via")

    def __init__(
        self, holder: object, target: object, info: LayerInfo, via: str, links: tuple[str, ...]
    ) -> None:
        self.holder = holder
        self.target = target
        self.info = info
        self.via = via
        self.links = links


def _plain_class(obj: object) -> type | None:
    """``obj`` when it is a class that is neither a layer nor a known driver."""
    if not inspect.isclass(obj) or obj.__module__ == "builtins":
        return None
    if config_layers.layer_of(obj) is not None or driver_info(obj) is not None:
        return None
    return obj


def _class_of(annotation: object, module: str, depth: int = 0) -> type | None:
    """The plain class an annotation names (through strings, ``Annotated``, unions, iterators)."""
    if depth > 4:
        return None
    if isinstance(annotation, str):
        annotation = refs.evaluate(annotation, module, {})
    if isinstance(annotation, refs.Unresolved) or annotation is None:
        return None
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return _class_of(args[0], module, depth + 1) if args else None
    if origin is typing.Union or (_UNION is not None and origin is _UNION):
        return _class_of(args[0], module, depth + 1) if len(args) == 1 else None
    if origin in refs.ITERATORS or origin in refs.AWAITABLES:
        return _class_of(args[0], module, depth + 1) if args else None
    if origin is not None:
        return None
    return _plain_class(annotation)


def _returned_class(call: Any, parameter_annotation: Callable[[], Any] | None) -> type | None:
    """The plain class a provider hands out: its return annotation, else the parameter's type."""
    if inspect.isclass(call):
        return None
    target = inspect.unwrap(call) if inspect.isroutine(call) else call
    annotations = getattr(target, "__annotations__", None)
    module = refs.module_of(target)
    if isinstance(annotations, dict) and "return" in annotations:
        found = _class_of(annotations["return"], module)
        if found is not None:
            return found
    annotation = parameter_annotation() if parameter_annotation is not None else None
    return _class_of(annotation, module) if annotation is not None else None


_holds: weakref.WeakKeyDictionary[type, tuple[Held, ...]] = weakref.WeakKeyDictionary()
config_layers.on_change(_holds.clear)


def class_holds(cls: type) -> tuple[Held, ...]:
    """The layers and drivers a plain class's constructor and annotated attributes name."""
    try:
        cached = _holds.get(cls)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    found: list[Held] = []
    seen: set[int] = set()
    try:
        for site in refs.dependency_annotations(cls):
            for reference in refs.references_in(site.annotation, site.module, site.localns):
                if isinstance(reference, refs.LayerReference) and id(reference.target) not in seen:
                    seen.add(id(reference.target))
                    links = (display_name(cls), display_name(reference.target))
                    found.append(Held(cls, reference.target, reference.info, site.via, links))
    except Exception:  # never crash the audit on an odd class
        found = []
    result = tuple(found)
    with contextlib.suppress(TypeError):
        _holds[cls] = result
    return result


def _held_by_self(endpoint: Any) -> tuple[Held, ...]:
    """What the instance behind a bound-method endpoint holds (``Controller(session).list``)."""
    owner = getattr(endpoint, "__self__", None)
    if not inspect.ismethod(endpoint) or owner is None or inspect.isclass(owner):
        return ()
    cls = _plain_class(type(owner))
    return class_holds(cls) if cls is not None else ()


def _held_by_node(parent: Any, child: DependencyNode) -> list[Held]:
    """What the object a non-layer node hands to its consumer holds.

    A class FastAPI constructs holds what its own dependencies provide (the
    tree below it); a provider's plain class holds what its constructor names.
    """
    call = child.call_object
    if inspect.isclass(call):
        if _plain_class(call) is None:
            return []
        return [
            Held(
                call,
                grandchild.layer_owner,
                grandchild.layer,
                f"parameter {grandchild.name!r} of {display_name(call)}.__init__",
                _links(grandchild),
            )
            for grandchild in child.children
            if grandchild.layer is not None
        ]
    cls = _returned_class(call, _ParameterType(parent, child.name))
    if cls is None:
        return []
    return list(class_holds(cls))


def _plain_class_node(node: DependencyNode) -> bool:
    return node.layer is None and _plain_class(node.call_object) is not None


def _links(node: DependencyNode) -> tuple[str, ...]:
    if node.layer_name and node.call != node.layer_name:
        return (node.call, node.layer_name)
    return (node.layer_name or node.call,)


def _holds_other_mode(parent: Any, child: Any, consumer_mode: Mode) -> bool:
    """The fast path's `_held_by_node`, on FastAPI's ``Dependant``: no report, no names."""
    call = child.call
    if inspect.isclass(call):
        if _plain_class(call) is None:
            return False
        for grandchild in child.dependencies:
            layer = _provided_layer(grandchild.call, _ParameterType(call, grandchild.name))
            if layer is not None and layer[0].mode is not consumer_mode:
                return True
        return False
    cls = _returned_class(call, _ParameterType(parent, child.name))
    return cls is not None and any(held.info.mode is not consumer_mode for held in class_holds(cls))


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
        if layer is None and consumer_mode is not None:
            try:
                if _holds_other_mode(parent, child, consumer_mode):
                    return False
            except Exception:  # the full report says what could not be inspected
                return False
        child_mode = layer[0].mode if layer is not None else shape_of(call).mode
        if layer is None and _plain_class(call) is not None:
            child_mode = None  # it only holds what it is given: checked against its consumer
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
    if config_layers.layer_of(endpoint) is None and any(
        held.info.mode is not declared_mode for held in _held_by_self(endpoint)
    ):
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


def served_routes(routes: Iterable[Any]) -> Iterable[Any]:
    """What serves each API route, mounted apps' too: the object whose ``dependant`` and
    ``app`` a request really uses, for the run time to wrap.

    FastAPI >= 0.165 serves an included router's route through an effective
    context of its own (``RouteContext._route_context``, with its own
    ``dependant``), not through the router's route object; wrapping the route
    object there would time nothing.
    """
    for view, original in flatten_routes(routes):
        context = getattr(view, "_route_context", None)
        target = context if context is not None else original
        if getattr(target, "dependant", None) is not None:
            yield target
        elif hasattr(original, "app") and not hasattr(original, "dependant"):  # a mount
            with contextlib.suppress(Exception):  # an ASGI app's ``routes`` may be anything
                yield from served_routes(list(getattr(original.app, "routes", ())))


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
