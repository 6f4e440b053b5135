"""``check_app``: the whole-app audit, for any FastAPI or Starlette app or router.

Walks every route (included routers, mounts, hosts), builds each route's
report from FastAPI's own dependency tree, then checks again every layer the
trees reach — so the report is complete whatever the import-time mode was.
Last, the bodies of the functions the app runs on the event loop are read
(R5, ``loop_functions.py``), and the report says how much of them it covered.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.routing import Router

from .._common.config import BoundaryConfig
from .._common.declarations import LayerInfo
from .._common.errors import BoundaryError
from .._common.violations import Violation
from . import annotations as refs
from . import config_layers
from .adoption import adopt
from .layers import audit_layer
from .loop_functions import audit_loop
from .report import AppReport, RouteReport
from .routes import inspect_routes

__all__ = ["check_app"]


def _tree_layers(route: RouteReport) -> frozenset[object]:
    """The layers (not drivers) in a route's dependency tree."""
    if route.endpoint is None:
        return frozenset()
    return frozenset(
        node.layer_owner
        for node in route.endpoint.walk()
        if node.layer_owner is not None and node.layer is not None and node.layer.kind != "driver"
    )


def _layer_graph(
    roots: Iterable[object], infos: dict[object, LayerInfo]
) -> tuple[dict[object, LayerInfo], dict[object, list[object]]]:
    """Layers reachable from ``roots`` through the layers they name, and what each names."""
    pending = [(owner, infos[owner]) for owner in roots]
    reachable: dict[object, LayerInfo] = {}
    names: dict[object, list[object]] = {}
    while pending:
        owner, info = pending.pop()
        if owner in reachable or info.kind == "driver":
            continue
        reachable[owner] = info
        named = names[owner] = []
        for site in refs.dependency_annotations(owner):
            for found in refs.references_in(site.annotation, site.module, site.localns):
                if isinstance(found, refs.LayerReference):
                    pending.append((found.target, found.info))
                    named.append(found.target)
    return reachable, names


def _routes_reaching(
    report: AppReport, wanted: set[object], names: dict[object, list[object]]
) -> dict[object, list[str]]:
    """For each layer of ``wanted``, the routes whose trees reach it (directly or named)."""
    closures: dict[object, frozenset[object]] = {}

    def closure(owner: object) -> frozenset[object]:
        known = closures.get(owner)
        if known is None:
            seen, pending = {owner}, [owner]
            while pending:
                for target in names.get(pending.pop(), ()):
                    if target not in seen:
                        seen.add(target)
                        pending.append(target)
            known = closures[owner] = frozenset(seen)
        return known

    found: dict[object, list[str]] = {owner: [] for owner in wanted}
    by_roots: dict[frozenset[object], set[object]] = {}  # routes share their layers
    for route in report.routes:
        roots = _tree_layers(route)
        hit = by_roots.get(roots)
        if hit is None:
            hit = by_roots[roots] = {o for root in roots for o in closure(root) if o in wanted}
        for owner in hit:
            found[owner].append(route.label)
    return found


def check_app(app: Starlette | Router, *, config: BoundaryConfig | None = None) -> AppReport:
    """Audit an app: every route, its modes, its dependency tree and the violations.

    Accepts a ``FastAPI`` or Starlette app, or an ``APIRouter``.  Included
    routers, mounted sub-applications and hosts are walked; FastAPI's own
    documentation routes are left out.  The app's layers (those in its
    dependency trees and the layers they name) are checked again for R2 and
    R3, so the report is complete whatever the import-time mode was, and
    forward references they could not resolve when created are resolved now.  Never
    raises on an odd callable: it is reported as unclassified.  Mounted apps it
    cannot look into (not routers, or empty) are listed in ``mounts``, not ``routes``.
    The functions the app runs on the event loop (endpoints, dependencies,
    middleware, lifespan, handlers, background tasks) are read for blocking calls
    (R5); ``report.coverage`` says how much of them could be analysed.

    Suppressions written in code (``@suppress_rule``) always apply.  ``config``
    (`load_config`, the ``[tool.fastapi-boundary]`` table) adds its layers,
    ``select``/``ignore``, suppressions and baseline; what they set aside is in
    ``report.adoption``.  Without it no configuration is read.
    """
    routes = getattr(app, "routes", None)
    if routes is None:
        raise BoundaryError(
            f"check_app() needs a FastAPI or Starlette app or an APIRouter; got "
            f"{type(app).__name__}. Fix: pass the object your ASGI server serves."
        )
    with config_layers.using(config.layers if config is not None else ()):
        report, known = _audit(routes)
        known.extend(audit_loop(app, report))
    return adopt(report, config, known)


def _audit(routes: Iterable[object]) -> tuple[AppReport, list[object]]:
    """The audit itself: the report, and the layers and drivers reached beyond the trees."""
    report = AppReport()
    for route in inspect_routes(routes):
        (report.mounts if route.kind == "mount" else report.routes).append(route)
    infos: dict[object, LayerInfo] = {}
    for route in report.routes:
        for node in route.endpoint.walk() if route.endpoint is not None else ():
            if node.layer_owner is not None and node.layer is not None:
                infos.setdefault(node.layer_owner, node.layer)
    reachable, names = _layer_graph(infos, infos)
    faulty: dict[object, list[Violation]] = {}
    for owner, info in reachable.items():
        violations, notes = audit_layer(owner, info)
        report.layer_violations.extend(violations)
        report.notes.extend(notes)
        if violations:
            faulty[owner] = violations
    if faulty:
        reaching = _routes_reaching(report, set(faulty), names)
        for owner, violations in faulty.items():
            report.layer_routes.update(dict.fromkeys(violations, reaching[owner]))
    report.notes.extend(f"{route.label}: {route.note}" for route in report.routes if route.note)
    return report, [*reachable, *(target for named in names.values() for target in named)]
