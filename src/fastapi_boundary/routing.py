"""Declared routers, and the whole-app audit (``check_app``, re-exported from the audit wing).

``SyncRouter`` and ``AsyncRouter`` are ``fastapi.APIRouter`` subclasses that
check every endpoint as it is added: the endpoint's mode matches the
router's, and no layer of the other mode sits anywhere in its dependency
tree (router-level and path-level dependencies included).  ``check_app``
audits any app, declared or not.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import APIRouter

from ._audit import registry
from ._audit.app_check import check_app
from ._audit.enforcement import current_mode, enforce
from ._audit.layers import check_deferred
from ._audit.report import RouteReport
from ._audit.routes import (
    declare_route_mode,
    flatten_routes,
    inspect_route,
    layer_owners_in,
    route_is_clean,
)
from ._audit.suppressions import chain_nodes, index_objects, party_objects, suppressed_in_code
from ._common.errors import BoundaryError, RouteModeError
from ._common.modes import Mode
from ._common.sites import caller_site
from ._common.violations import Violation

__all__ = ["AsyncRouter", "SyncRouter", "check_app"]


def _deferred_owners_in(route: Any) -> set[object]:
    """Layers in this route's tree that still wait for a forward reference (usually none)."""
    owners = {item.owner for item in registry.all_deferred()}
    dependant = getattr(route, "dependant", None)
    if not owners or dependant is None:
        return set()
    return layer_owners_in(dependant, owners)


def _suppressed(violation: Violation, report: RouteReport) -> bool:
    """Whether ``@suppress_rule`` on a party of the finding covers it (run on failure only)."""
    nodes = report.endpoint.walk() if report.endpoint is not None else []
    objects = [o for node in nodes for o in (node.call_object, node.layer_owner) if o is not None]
    involved = party_objects(violation, index_objects(objects))
    for node in chain_nodes(report, violation):
        involved.extend(o for o in (node.call_object, node.layer_owner) if o is not None)
    return suppressed_in_code(violation, involved)


class _DeclaredRouter(APIRouter):
    """An ``APIRouter`` whose routes are checked against its declared mode."""

    mode: ClassVar[Mode]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boundary_site = caller_site()
        self._checks_paused = False

    def _check_added(self, route: Any, original: Any = None) -> None:
        endpoint = getattr(route, "endpoint", None)
        kind = type(self).__name__
        declared = (self.mode, kind, self.boundary_site)
        if endpoint is not None:
            declare_route_mode(endpoint, declared)
        if current_mode() == "off" or self._checks_paused:
            return
        deferred = check_deferred(_deferred_owners_in(route))
        if not deferred and route_is_clean(route, self.mode):
            return
        report = inspect_route(route, "", declared, original=original)
        violations = [v for v in report.violations if not _suppressed(v, report)] if report else []
        enforce(RouteModeError, violations + deferred)

    def include_router(self, router: APIRouter, *args: Any, **kwargs: Any) -> None:
        """Include ``router``; its routes become this router's and are checked against its mode.

        A router of this mode included without extra dependencies was checked
        route by route already, so it is not checked again.
        """
        already_checked = isinstance(router, type(self)) and not kwargs.get("dependencies")
        before = len(self.routes)
        self._checks_paused = already_checked
        try:
            super().include_router(router, *args, **kwargs)
        finally:
            self._checks_paused = False
        if already_checked:
            return
        # FastAPI < 0.165 re-adds each route through add_api_route (checked there);
        # newer versions add one lazy entry whose effective routes are checked here.
        added = self.routes[before:]
        lazy = [route for route in added if hasattr(route, "effective_route_contexts")]

        def check() -> None:
            for view, original in flatten_routes(lazy):
                if hasattr(view, "dependant"):
                    self._check_added(view, original)

        self._rollback_on_error(before, check)

    def _rollback_on_error(self, before: int, check: Any) -> None:
        """Run ``check``; if it raises, drop the routes just added so the router stays clean."""
        try:
            check()
        except BoundaryError:
            del self.routes[before:]
            raise

    def add_api_route(self, *args: Any, **kwargs: Any) -> None:
        before = len(self.routes)
        super().add_api_route(*args, **kwargs)
        self._rollback_on_error(before, lambda: self._check_added(self.routes[-1]))

    def add_api_websocket_route(self, *args: Any, **kwargs: Any) -> None:
        before = len(self.routes)
        super().add_api_websocket_route(*args, **kwargs)
        self._rollback_on_error(before, lambda: self._check_added(self.routes[-1]))


class SyncRouter(_DeclaredRouter):
    """A router of plain ``def`` endpoints over sync layers (FastAPI runs them in threads).

    Adding an ``async def`` endpoint, or an endpoint whose dependency tree
    holds an async layer, raises `RouteModeError`.
    """

    mode = Mode.SYNC


class AsyncRouter(_DeclaredRouter):
    """A router of ``async def`` endpoints over async layers (run on the event loop).

    Adding a plain ``def`` endpoint, or an endpoint whose dependency tree
    holds a sync layer, raises `RouteModeError`.
    """

    mode = Mode.ASYNC
