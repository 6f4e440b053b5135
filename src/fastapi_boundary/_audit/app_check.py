"""``check_app``: the whole-app audit, for any FastAPI or Starlette app or router.

Walks every route (included routers, mounts, hosts), builds each route's
report from FastAPI's own dependency tree, then checks again every layer the
trees reach — so the report is complete whatever the import-time mode was.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.applications import Starlette

from .._common.declarations import LayerInfo
from .._common.errors import BoundaryError
from . import annotations as refs
from .layers import audit_layer
from .report import AppReport
from .routes import inspect_routes

__all__ = ["check_app"]


def _layers_reachable_from(report: AppReport) -> dict[object, LayerInfo]:
    """Layers in the app's dependency trees, and the layers they name, transitively."""
    pending = [
        (node.layer_owner, node.layer)
        for route in report.routes
        if route.endpoint is not None
        for node in route.endpoint.walk()
        if node.layer_owner is not None and node.layer is not None
    ]
    reachable: dict[object, LayerInfo] = {}
    while pending:
        owner, info = pending.pop()
        if owner in reachable or info.kind == "driver":
            continue
        reachable[owner] = info
        for site in refs.dependency_annotations(owner):
            for found in refs.references_in(site.annotation, site.module, site.localns):
                if isinstance(found, refs.LayerReference):
                    pending.append((found.target, found.info))
    return reachable


def check_app(app: Starlette | APIRouter) -> AppReport:
    """Audit an app: every route, its modes, its dependency tree and the violations.

    Accepts a ``FastAPI`` or Starlette app, or an ``APIRouter``.  Included
    routers, mounted sub-applications and hosts are walked; FastAPI's own
    documentation routes are left out.  The app's layers (those in its
    dependency trees and the layers they name) are checked again for R2 and
    R3, so the report is complete whatever the import-time mode was, and
    forward references they could not resolve when created are resolved now.  Never
    raises on an odd callable: it is reported as unclassified.
    """
    routes = getattr(app, "routes", None)
    if routes is None:
        raise BoundaryError(
            f"check_app() needs a FastAPI or Starlette app or an APIRouter; got "
            f"{type(app).__name__}. Fix: pass the object your ASGI server serves."
        )
    report = AppReport(routes=list(inspect_routes(routes)))
    for owner, info in _layers_reachable_from(report).items():
        violations, notes = audit_layer(owner, info)
        report.layer_violations.extend(violations)
        report.notes.extend(notes)
    report.notes.extend(f"{route.label}: {route.note}" for route in report.routes if route.note)
    return report
