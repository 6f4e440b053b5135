"""The functions an app runs on the event loop, their R5 findings, and the coverage.

Where FastAPI and Starlette run the app's code on the loop:

- every ``async def`` endpoint and dependency of every route (FastAPI's own
  ``Dependant`` tree, as ``routes.py`` reads it), websocket endpoints included,
  and a class-based view's method (``Controller(...).list``, its instance known);
- middleware: each ``app.user_middleware`` entry, a ``@app.middleware("http")``
  function or a class's ``dispatch``/``__call__``, with ``request`` and
  ``call_next`` (``receive``, ``send``) as the framework passes them; it runs
  for every route;
- the lifespan (``app.router.lifespan_context``, through the wrappers FastAPI,
  ``include_router`` and ``install`` put around it), and ``on_startup`` /
  ``on_shutdown`` handlers, sync ones too: FastAPI calls those on the loop;
- ``async def`` exception handlers (Starlette runs sync ones in its threadpool);
- what those start: an ``async def`` of the app they call or hand to
  ``background_tasks.add_task`` (``bodies``).

Only the app's own code is analysed and counted; library code (Starlette's
middleware, this package's wrappers) is trusted and left out.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any

from .._common import fixes
from .._common.modes import Mode
from .._common.modules import loaded_module
from .bodies import (
    FRAMEWORK,
    MAX_DEPTH,
    Analyzer,
    Hit,
    Inst,
    LoopFunction,
    Obj,
    Value,
    is_app_function,
    is_app_object,
    iter_hits,
)
from .loop_rules import blocking_on_loop
from .report import AppReport, Coverage, RouteReport

__all__ = ["analyse_loop", "audit_loop", "loop_target"]

_HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
_WEBSOCKET_METHODS = ("on_connect", "on_receive", "on_disconnect")

# where a root is run from: a route, every route (middleware), or the app alone
Origin = RouteReport | str


def _starlette(module: str, name: str) -> type | None:
    found = getattr(loaded_module(module), name, None)
    return found if isinstance(found, type) else None


def _positional(func: Any, values: list[Value], *, method: bool) -> dict[str, Value]:
    """``values`` bound to ``func``'s positional parameters (after ``self`` for a method)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return {}
    names = list(code.co_varnames[: code.co_argcount])
    if method:
        names = names[1:]
    return dict(zip(names, values, strict=False))


def _request() -> Value:
    request = _starlette("starlette.requests", "Request")
    return Inst(request) if request is not None else FRAMEWORK


def loop_target(call: Any) -> tuple[Any, Value | None] | None:
    """The function FastAPI runs for a callable, and its receiver (a bound method's ``self``)."""
    while isinstance(call, functools.partial):
        call = call.func
    if inspect.ismethod(call):
        return call.__func__, Obj(call.__self__)
    if inspect.isfunction(call):
        if not is_app_function(call):  # a library's wrapper around an async function of the app
            wrapped = inspect.unwrap(call)
            if (
                wrapped is not call
                and is_app_function(wrapped)
                and (inspect.iscoroutinefunction(wrapped) or inspect.isasyncgenfunction(wrapped))
            ):
                return wrapped, None
        return call, None
    if inspect.isclass(call) or not callable(call):
        return None
    method = inspect.getattr_static(type(call), "__call__", None)
    if inspect.isfunction(method):
        return method, Obj(call)
    return None


class _Roots:
    """The functions on the loop registered with the analyzer, and where each is run from."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.origins: list[tuple[LoopFunction, Origin]] = []

    def add(
        self,
        func: Any,
        receiver: Value | None,
        role: str,
        origin: Origin,
        *,
        mode: Mode = Mode.ASYNC,
        bound: dict[str, Value] | None = None,
    ) -> None:
        loop = self.analyzer.add(func, receiver, role, mode, bound)
        if loop is not None:
            self.origins.append((loop, origin))


def _middleware(roots: _Roots, app: Any) -> None:
    for entry in getattr(app, "user_middleware", None) or ():
        cls = getattr(entry, "cls", None)
        # Starlette >= 0.35 keeps the options as ``kwargs``, older releases as ``options``
        kwargs = dict(getattr(entry, "kwargs", None) or getattr(entry, "options", None) or {})
        dispatch = kwargs.get("dispatch")
        if inspect.isfunction(dispatch):  # @app.middleware("http"), BaseHTTPMiddleware(dispatch=)
            bound = _positional(dispatch, [_request(), FRAMEWORK], method=False)
            roots.add(dispatch, None, "middleware", "middleware", bound=bound)
        if not inspect.isclass(cls) or not is_app_object(cls):
            continue
        receiver = _middleware_instance(roots.analyzer, cls, kwargs)
        calls: list[tuple[str, list[Value]]] = [
            ("dispatch", [_request(), FRAMEWORK]),
            ("__call__", [Inst(dict), FRAMEWORK, FRAMEWORK]),
        ]
        for name, values in calls:
            method = inspect.getattr_static(cls, name, None)
            if inspect.isfunction(method) and is_app_function(method):
                bound = _positional(method, values, method=True)
                roots.add(method, receiver, "middleware", "middleware", bound=bound)


def _middleware_instance(analyzer: Analyzer, cls: type, kwargs: dict[str, Any]) -> Value:
    """The middleware object: its ``__init__`` run with the next app and the options given."""
    init = inspect.getattr_static(cls, "__init__", None)
    if not is_app_function(init):
        return Inst(cls)
    bound: dict[str, Value] = {name: Obj(value) for name, value in kwargs.items()}
    code = init.__code__
    names = code.co_varnames[1 : code.co_argcount]
    if names:
        bound[names[0]] = FRAMEWORK  # the app it wraps: the rest of the stack
    with analyzer.quietly():  # built once, when the stack is: not per request
        summary = analyzer.summary(init, Inst(cls), bound, MAX_DEPTH - 1)
    return Inst(cls, attrs=summary.self_attrs) if summary is not None else Inst(cls)


def _lifespans(obj: Any, depth: int = 0) -> Iterator[Any]:
    """The app's own lifespan functions behind ``lifespan_context`` (through wrappers)."""
    if depth > 5 or obj is None or inspect.isclass(obj):
        return
    while isinstance(obj, functools.partial):
        obj = obj.func
    if not inspect.isfunction(obj):
        return
    if is_app_function(obj):
        yield obj
        return
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None:
        yield from _lifespans(wrapped, depth + 1)
    code = obj.__code__
    for _, cell in zip(code.co_freevars, obj.__closure__ or (), strict=False):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if inspect.isfunction(value) or isinstance(value, functools.partial):
            yield from _lifespans(value, depth + 1)


def _lifespan(roots: _Roots, app: Any) -> None:
    router = getattr(app, "router", app)
    seen: set[int] = set()
    for func in _lifespans(getattr(router, "lifespan_context", None)):
        if id(func) in seen:
            continue
        seen.add(id(func))
        is_async = inspect.isasyncgenfunction(func) or inspect.iscoroutinefunction(func)
        bound = _positional(func, [Obj(app)], method=False)
        mode = Mode.ASYNC if is_async else Mode.SYNC
        roots.add(func, None, "lifespan", "app", mode=mode, bound=bound)
    for name, role in (("on_startup", "startup handler"), ("on_shutdown", "shutdown handler")):
        for handler in getattr(router, name, None) or ():
            target = loop_target(handler)
            if target is None:
                continue
            func, receiver = target
            is_async = inspect.iscoroutinefunction(func)
            mode = Mode.ASYNC if is_async else Mode.SYNC  # FastAPI calls a sync one on the loop
            roots.add(func, receiver, role, "app", mode=mode)


def _exception_handlers(roots: _Roots, app: Any) -> None:
    handlers = getattr(app, "exception_handlers", None)
    if not isinstance(handlers, dict):
        return
    for key, handler in handlers.items():
        target = loop_target(handler)
        if target is None or not inspect.iscoroutinefunction(target[0]):
            continue  # a sync handler runs in the threadpool
        func, receiver = target
        error: Value = Inst(key) if inspect.isclass(key) else Obj(key)
        bound = _positional(func, [_request(), error], method=receiver is not None)
        roots.add(func, receiver, "exception handler", "app", bound=bound)


def _routes(roots: _Roots, report: AppReport) -> None:
    http_endpoint = _starlette("starlette.endpoints", "HTTPEndpoint")
    websocket_endpoint = _starlette("starlette.endpoints", "WebSocketEndpoint")
    for route in report.routes:
        root = route.endpoint
        if root is None:
            continue
        for node in root.walk():
            call = node.call_object
            if inspect.isclass(call):
                methods: tuple[str, ...] = ()
                if http_endpoint is not None and issubclass(call, http_endpoint):
                    methods = _HTTP_METHODS
                elif websocket_endpoint is not None and issubclass(call, websocket_endpoint):
                    methods = _WEBSOCKET_METHODS
                for name in methods:
                    method = inspect.getattr_static(call, name, None)
                    if inspect.iscoroutinefunction(method):
                        roots.add(method, Inst(call), "async endpoint", route)
                continue
            if node.mode is not Mode.ASYNC:
                continue  # FastAPI runs it in the threadpool
            target = loop_target(call)
            if target is not None:
                role = "async endpoint" if node is root else "async dependency"
                roots.add(target[0], target[1], role, route)


def _spread(origins: list[tuple[LoopFunction, Origin]]) -> None:
    """Each function is run by the routes (and the app) that run a root reaching it."""
    by_origin: dict[int, tuple[Origin, list[LoopFunction]]] = {}
    for loop, origin in origins:
        by_origin.setdefault(id(origin), (origin, []))[1].append(loop)
    for origin, loops in by_origin.values():
        seen: set[int] = set()
        pending = list(loops)
        while pending:
            loop = pending.pop()
            if id(loop) in seen:
                continue
            seen.add(id(loop))
            if isinstance(origin, RouteReport):
                loop.routes[id(origin)] = origin
            else:
                loop.app_level = True
                loop.app_wide = loop.app_wide or origin == "middleware"
            pending.extend(loop.callees)


def _fix(loop: LoopFunction, hit: Hit) -> str:
    caller = loop.name if loop.can_be_def else None
    blocking = hit.blocking
    if len(hit.path) == 1:
        return fixes.blocking_call_fix(blocking.fix, caller) if caller else blocking.fix
    return fixes.loop_helper_fix(hit.path[0].name, blocking.short, blocking.category, caller)


def _findings(analyzer: Analyzer, report: AppReport) -> None:
    every_route = [route.label for route in report.routes]
    for loop in analyzer.functions.values():
        if not loop.hits:
            continue
        subject = loop.party()
        for _, hits in iter_hits(loop):
            first = hits[0]
            sites = sorted({hit.path[0].site for hit in hits}, key=lambda site: site.line)
            fix = _fix(loop, first)
            for route in loop.routes.values():
                route.violations.append(
                    blocking_on_loop(subject, first.path, first.blocking, sites, fix, route.label)
                )
            if loop.app_level:
                violation = blocking_on_loop(subject, first.path, first.blocking, sites, fix)
                report.layer_violations.append(violation)
                report.layer_routes[violation] = every_route if loop.app_wide else []


def _coverage(analyzer: Analyzer) -> Coverage:
    unresolved: dict[str, int] = {}
    for receiver in analyzer.unresolved.values():
        unresolved[receiver] = unresolved.get(receiver, 0) + 1
    not_analysed = dict(analyzer.no_source)
    for loop in analyzer.functions.values():
        if not loop.analysed and loop.reason is not None:
            not_analysed.setdefault(f"{loop.name} ({loop.site})", loop.reason)
    return Coverage(
        functions=len(analyzer.functions),
        analysed=sum(1 for loop in analyzer.functions.values() if loop.analysed),
        helpers=len(analyzer.helpers),
        calls=len(analyzer.calls),
        unresolved=unresolved,
        not_analysed=not_analysed,
        not_followed=[f"{name} ({site})" for name, site in analyzer.not_followed.items()],
        depth=MAX_DEPTH,
    )


def analyse_loop(app: Any, report: AppReport) -> Analyzer:
    """Find and analyse every function ``app`` runs on the loop; each knows its routes."""
    analyzer = Analyzer()
    roots = _Roots(analyzer)
    _middleware(roots, app)  # first: what they put in request.state is read below
    _lifespan(roots, app)
    _exception_handlers(roots, app)
    _routes(roots, report)
    analyzer.run()
    _spread(roots.origins)
    return analyzer


def audit_loop(app: Any, report: AppReport) -> list[object]:
    """Analyse what ``app`` runs on the event loop: R5 findings into ``report``, and its coverage.

    Returns the functions analysed, for the suppressions written on them.
    """
    analyzer = analyse_loop(app, report)
    _findings(analyzer, report)
    report.coverage = _coverage(analyzer)
    return [loop.func for loop in analyzer.functions.values()]
