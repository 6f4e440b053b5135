"""The audit's model of an app: routes, their dependency trees, the violations.

Plain dataclasses, so the renderers (table, JSON, GitHub, SARIF), the
grouping into findings (``findings.py``) and the tests all read the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._common.declarations import LayerInfo
from .._common.modes import Mode
from .._common.sites import UNKNOWN, Site, site_of
from .._common.violations import Violation

if TYPE_CHECKING:
    from .adoption import Adoption

__all__ = ["AppReport", "Coverage", "DependencyNode", "RouteReport"]


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
    use_cache: bool = True  # Depends(use_cache=False): FastAPI calls it again, not once
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


def _cache_key(node: DependencyNode) -> tuple[int, int]:
    """What FastAPI's per-request dependency cache keys a call by: the callable itself.

    Two closures of one factory share a name and a site but are two callables,
    each called once; ``use_cache=False`` makes every occurrence a call of its own.
    """
    if node.use_cache and node.call_object is not None:
        return (0, id(node.call_object))
    return (1, id(node))


@dataclass
class RouteReport:
    """One route: where it answers, what runs for it and what is wrong with it.

    ``validates_response`` is true when FastAPI validates what the endpoint
    returns against a response model (``response_model=`` or the return
    annotation): for a ``def`` endpoint it does so in the threadpool.
    """

    kind: str  # "http", "websocket", "route", "mount"
    path: str
    methods: tuple[str, ...]
    name: str | None
    declared_mode: Mode | None
    endpoint: DependencyNode | None
    violations: list[Violation] = field(default_factory=list)
    note: str | None = None
    validates_response: bool = False

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

    def hop_sources(self) -> list[tuple[str, int]]:
        """Each threadpool round trip of one request: ``(what, hops)``, in tree order.

        FastAPI runs every sync callable of the tree in the threadpool, once per
        request per callable (its dependency cache), a sync generator twice (setup
        and teardown), and, for a ``def`` endpoint with a response model, the
        validation of the response too.
        """
        endpoint = self.endpoint
        if endpoint is None:
            return []
        sources: list[tuple[str, int]] = []
        seen: set[tuple[int, int]] = set()
        for node in endpoint.walk():
            if node.mode is not Mode.SYNC:
                continue
            if node is endpoint:
                sources.append((f"endpoint {node.call}", 1))
                continue
            key = _cache_key(node)
            if key in seen:
                continue
            seen.add(key)
            if node.shape == "generator function":
                sources.append((f"{node.call} (setup, teardown)", 2))
            else:
                sources.append((node.call, 1))
        if self.validates_response and endpoint.mode is Mode.SYNC:
            sources.append(("response validation", 1))
        return sources

    @property
    def thread_hops(self) -> int:
        """Threadpool round trips per request: the sum of `hop_sources`."""
        return sum(hops for _, hops in self.hop_sources())

    def to_dict(self, *, tree: bool = False) -> dict[str, Any]:
        """The route's entry in the JSON report; ``tree`` adds its dependency tree and hops."""
        entry: dict[str, Any] = {
            "label": self.label,
            "kind": self.kind,
            "mode": self.mode.value if self.mode else None,
            "declared": self.declared_mode is not None,
            "hops": self.thread_hops,
            "note": self.note,
        }
        if tree:
            entry["hop_sources"] = [
                {"what": what, "hops": hops} for what, hops in self.hop_sources()
            ]
            entry["tree"] = self.endpoint.to_dict() if self.endpoint else None
        return entry


@dataclass
class Coverage:
    """What the body analysis (R5) looked at, and what it could not.

    ``functions`` are the app's own functions that run on the event loop
    (endpoints, dependencies, middleware, lifespan, handlers, background tasks
    and the async functions they call), ``analysed`` those whose source was
    read.  ``calls`` counts the distinct call sites in them and in the app's
    sync helpers followed; ``unresolved`` maps each receiver that could not be
    resolved (with why) to how many call sites it leaves unresolved;
    ``not_analysed`` says why each function that was not read was not;
    ``not_followed`` are helpers deeper than ``depth`` calls.  Complete when
    nothing was missed: only then is a report without findings "clean".
    """

    functions: int = 0
    analysed: int = 0
    helpers: int = 0
    calls: int = 0
    unresolved: dict[str, int] = field(default_factory=dict)
    not_analysed: dict[str, str] = field(default_factory=dict)
    not_followed: list[str] = field(default_factory=list)
    depth: int = 0

    SHOWN = 5  # unresolved receivers the table names

    @property
    def unresolved_calls(self) -> int:
        return sum(self.unresolved.values())

    @property
    def complete(self) -> bool:
        return (
            self.analysed == self.functions
            and not self.unresolved
            and not self.not_analysed
            and not self.not_followed
        )

    def qualifier(self) -> str:
        """``5 of 6 async functions, 3 calls unresolved``: what "no finding" covers."""
        parts = [f"{self.analysed:,} of {_count(self.functions, 'async function')}"]
        if self.unresolved:
            parts.append(f"{_count(self.unresolved_calls, 'call')} unresolved")
        if self.not_followed:
            parts.append(f"{_count(len(self.not_followed), 'helper')} not followed")
        return ", ".join(parts)

    def headline(self) -> str:
        """The coverage in one line: the first line of the table's coverage section."""
        if not self.functions:
            return "Coverage: complete: no function of the app runs on the event loop"
        analysed = (
            f"{self.analysed:,} of {_count(self.functions, 'async function')} on the event "
            f"loop analysed"
        )
        calls = f"{_count(self.calls, 'call')}"
        if self.complete:
            return f"Coverage: complete: {analysed}, {calls}, all resolved"
        resolved = self.calls - self.unresolved_calls
        return f"Coverage: incomplete: {analysed}, {resolved:,} of {calls} resolved"

    def lines(self, limit: int | None = SHOWN) -> list[str]:
        """The table's coverage section: the headline, then what was missed and why."""
        lines = [self.headline()]
        for name, reason in self.not_analysed.items():
            lines.append(f"  not analysed: {name}: {reason}")
        if self.unresolved:
            ranked = sorted(self.unresolved.items(), key=lambda item: (-item[1], item[0]))
            shown = ranked if limit is None else ranked[:limit]
            lines.append(
                f"  unresolved calls ({self.unresolved_calls:,}), by receiver "
                "(annotate it, or name its type in a provider's return annotation):"
            )
            lines.extend(f"    {receiver}: {count:,}" for receiver, count in shown)
            if len(ranked) > len(shown):
                lines.append(f"    and {len(ranked) - len(shown):,} more (--verbose lists them)")
        if self.not_followed:
            lines.append(
                f"  not followed, deeper than {self.depth} calls: " + ", ".join(self.not_followed)
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        ranked = sorted(self.unresolved.items(), key=lambda item: (-item[1], item[0]))
        return {
            "complete": self.complete,
            "functions": self.functions,
            "analysed": self.analysed,
            "helpers": self.helpers,
            "calls": self.calls,
            "unresolved_calls": self.unresolved_calls,
            "unresolved": [{"receiver": receiver, "calls": count} for receiver, count in ranked],
            "not_analysed": [
                {"function": name, "reason": reason} for name, reason in self.not_analysed.items()
            ],
            "not_followed": list(self.not_followed),
            "depth": self.depth,
        }


@dataclass
class AppReport:
    """The whole audit: every route, plus violations not tied to one route.

    ``routes`` are the routes the audit inspected (or could not, with a note);
    ``mounts`` the mounted apps it could not look into (not routers, or empty).
    ``layer_routes`` gives, for each layer violation, the routes whose trees
    reach that layer (directly or through the layers it names).  ``adoption``
    is what the configuration, the baseline and the suppressions set aside
    (``None`` when there was nothing to apply).  ``coverage`` is what the body
    analysis looked at (``None`` when it did not run: the app did not import).
    """

    routes: list[RouteReport] = field(default_factory=list)
    layer_violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    import_failed: bool = False  # an import-time check stopped the app from loading
    mounts: list[RouteReport] = field(default_factory=list)
    layer_routes: dict[Violation, list[str]] = field(default_factory=dict, repr=False)
    adoption: Adoption | None = field(default=None, repr=False)  # baseline, suppressions
    coverage: Coverage | None = field(default=None, repr=False)  # what R5 looked at

    @property
    def violations(self) -> list[Violation]:
        found = list(self.layer_violations)
        for route in self.routes:
            found.extend(route.violations)
        return found

    @property
    def ok(self) -> bool:
        """No finding, and no stale baseline entry or suppression (`adoption`)."""
        if self.adoption is not None and not self.adoption.ok:
            return False
        return not self.layer_violations and not any(route.violations for route in self.routes)

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
        """One line: routes, violations, and mounts not inspected, unclassified callables, notes."""
        violations = len(self.violations)
        if self.import_failed:
            return (
                f"the app did not import: {_count(violations, 'violation')} "
                "raised at import time (routes not audited)"
            )
        parts = [_count(len(self.routes), "route"), _count(violations, "violation")]
        if self.mounts:
            parts.append(f"{_count(len(self.mounts), 'mounted app')} not inspected")
        unclassified = len(self.unclassified)
        if unclassified:
            parts.append(f"{unclassified} unclassified")
        if self.notes:
            parts.append(_count(len(self.notes), "note"))
        return ", ".join(parts)

    def to_dict(self, *, verbose: bool = False) -> dict[str, Any]:
        """The JSON report (schema version 1, see ``docs/cli.md``), as a dictionary."""
        from .findings import report_document

        return report_document(self, verbose=verbose)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
