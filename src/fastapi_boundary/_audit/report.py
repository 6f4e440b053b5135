"""The audit's model of an app: routes, their dependency trees, the violations.

Plain dataclasses, so the table, JSON and CI renderers and the tests all
read the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._common.declarations import LayerInfo
from .._common.modes import Mode
from .._common.sites import UNKNOWN, Site, site_of
from .._common.violations import Violation

__all__ = ["AppReport", "DependencyNode", "RouteReport"]


@dataclass
class DependencyNode:
    """One callable FastAPI runs for a route: the endpoint or a dependency.

    ``mode`` is how FastAPI runs the callable (``None``: unclassified);
    ``layer`` is the layer it is, or the layer it provides through its
    annotations (``provides`` is then true).
    """

    name: str
    call: str
    shape: str
    mode: Mode | None
    layer: LayerInfo | None = None
    layer_name: str | None = None
    provides: bool = False
    note: str | None = None
    children: list[DependencyNode] = field(default_factory=list)
    call_object: object = field(default=None, repr=False, compare=False)
    layer_owner: object = field(default=None, repr=False, compare=False)
    known_site: Site | None = field(default=None, repr=False, compare=False)

    @property
    def site(self) -> Site:
        """Where the callable is defined; looked up only when a report needs it."""
        if self.known_site is None:
            self.known_site = site_of(self.call_object) if self.call_object is not None else UNKNOWN
        return self.known_site

    @property
    def effective_mode(self) -> Mode | None:
        """The mode the node's own dependencies must have: its layer's, else its own."""
        return self.layer.mode if self.layer else self.mode

    def walk(self) -> list[DependencyNode]:
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "call": self.call,
            "shape": self.shape,
            "mode": self.mode.value if self.mode else None,
            "file": self.site.file,
            "line": self.site.line,
            "layer": (
                {
                    "name": self.layer_name,
                    "mode": self.layer.mode.value,
                    "kind": self.layer.kind,
                    "provided": self.provides,
                }
                if self.layer
                else None
            ),
            "note": self.note,
            "children": [child.to_dict() for child in self.children],
        }


@dataclass
class RouteReport:
    """One route: where it answers, what runs for it and what is wrong with it."""

    kind: str  # "http", "websocket", "route", "mount"
    path: str
    methods: tuple[str, ...]
    name: str | None
    declared_mode: Mode | None
    endpoint: DependencyNode | None
    violations: list[Violation] = field(default_factory=list)
    note: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "websocket":
            return f"WEBSOCKET {self.path}"
        if self.methods:
            return f"{','.join(self.methods)} {self.path}"
        return self.path

    @property
    def mode(self) -> Mode | None:
        if self.declared_mode is not None:
            return self.declared_mode
        return self.endpoint.effective_mode if self.endpoint else None

    @property
    def thread_hops(self) -> int:
        """Threadpool round trips per request (sync generators count setup and teardown)."""
        if self.endpoint is None:
            return 0
        hops = 0
        seen: set[tuple[str, str]] = set()
        for node in self.endpoint.walk():
            key = (node.call, str(node.site))
            if node.mode is not Mode.SYNC or key in seen:
                continue
            seen.add(key)
            hops += 2 if node.shape == "generator function" and node is not self.endpoint else 1
        return hops

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "methods": list(self.methods),
            "name": self.name,
            "mode": self.mode.value if self.mode else None,
            "declared_mode": self.declared_mode.value if self.declared_mode else None,
            "thread_hops": self.thread_hops,
            "endpoint": self.endpoint.to_dict() if self.endpoint else None,
            "violations": [v.to_dict() for v in self.violations],
            "note": self.note,
        }


@dataclass
class AppReport:
    """The whole audit: every route, plus violations not tied to one route."""

    routes: list[RouteReport] = field(default_factory=list)
    layer_violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    import_failed: bool = False  # an import-time check stopped the app from loading

    @property
    def violations(self) -> list[Violation]:
        found = list(self.layer_violations)
        for route in self.routes:
            found.extend(route.violations)
        return found

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def unclassified(self) -> list[tuple[RouteReport, DependencyNode]]:
        return [
            (route, node)
            for route in self.routes
            if route.endpoint is not None
            for node in route.endpoint.walk()
            if node.mode is None
        ]

    def summary(self) -> str:
        routes = len(self.routes)
        violations = len(self.violations)
        if self.import_failed:
            return (
                f"the app did not import: {violations} violation{'s' if violations != 1 else ''} "
                "raised at import time (routes not audited)"
            )
        unclassified = len(self.unclassified)
        parts = [
            f"{routes} route{'s' if routes != 1 else ''}",
            f"{violations} violation{'s' if violations != 1 else ''}",
        ]
        if unclassified:
            parts.append(f"{unclassified} unclassified")
        if self.notes:
            parts.append(f"{len(self.notes)} note{'s' if len(self.notes) != 1 else ''}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "import_failed": self.import_failed,
            "routes": [route.to_dict() for route in self.routes],
            "layer_violations": [v.to_dict() for v in self.layer_violations],
            "violations": [v.to_dict() for v in self.violations],
            "notes": list(self.notes),
        }
