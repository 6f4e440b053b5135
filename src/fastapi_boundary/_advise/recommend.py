"""The guide's decision matrix, applied to a route's evidence: a mode, a reason, a confidence.

The rows, in the order they are tried (the first that fits decides):

1. a websocket: async (FastAPI runs websocket endpoints on the loop);
2. CPU-marked work (``@cpu_bound``, a catalogue ``cpu`` call): sync, with a process
   or queue offload ("Async does NOT help CPU-bound tasks");
3. a blocking driver or blocking call on the chain: sync ("Blocking libs → sync";
   classic SQLAlchemy, a blocking HTTP client, sqlite3 ...);
4. only async drivers: async (async SQLAlchemy, an async HTTP client, other async I/O);
   a sync driver behind an explicit offload (``AsyncProxy``) does not count here;
5. only drivers behind an explicit offload: sync (async over an offload buys nothing);
6. an ``async def`` route that awaits nothing: premature async, make it a ``def``;
7. an ``async def`` route that awaits something no table knows: async, unsure;
8. nothing but simple code: sync ("Simple CRUD API").

A measured profile (``profile_reading``) then confirms or overrides the structural
answer with the shares of time the route really spent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from .._common import fixes
from .._common.modes import Mode
from .evidence import RouteEvidence
from .profile_reading import Measured

__all__ = ["ROWS", "Advice", "Rollup", "Row", "advise_route", "roll_up"]

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Row:
    """A row of the guide's decision matrix (or one of its rules outside the table)."""

    key: str
    use_case: str
    choice: Mode
    reason: str
    in_matrix: bool = True


ROWS: dict[str, Row] = {
    row.key: row
    for row in (
        Row(
            "classic-sqlalchemy",
            "Classic SQLAlchemy",
            Mode.SYNC,
            "classic SQLAlchemy is a blocking driver: async helps only with async DB drivers",
        ),
        Row(
            "async-sqlalchemy",
            "Async SQLAlchemy",
            Mode.ASYNC,
            "async SQLAlchemy: everything becomes async, repositories, services and routers",
        ),
        Row(
            "external-http",
            "External HTTP APIs",
            Mode.ASYNC,
            "external HTTP through an async client: the route waits on the network, and "
            "async waits efficiently",
        ),
        Row(
            "cpu-heavy",
            "CPU-heavy logic",
            Mode.SYNC,
            "CPU-bound work: async does not help CPU-bound tasks",
        ),
        Row(
            "simple-crud",
            "Simple CRUD API",
            Mode.SYNC,
            "simple, fast code with no async driver: async does not help, and sync "
            "endpoints scale reasonably well in the threadpool",
        ),
        Row(
            "high-concurrency-io",
            "High concurrency I/O",
            Mode.ASYNC,
            "async I/O: waiting on I/O for many concurrent connections is what async is for",
        ),
        Row(
            "blocking-library",
            "Blocking library",
            Mode.SYNC,
            "a blocking library is in the path: blocking libs go sync, or every request on "
            "the loop waits for it",
            in_matrix=False,
        ),
        Row(
            "async-over-offload",
            "Async over an offload",
            Mode.SYNC,
            "everything it reaches runs behind an explicit offload, in worker threads: async "
            "buys nothing here, and sync is as fast and simpler",
            in_matrix=False,
        ),
        Row(
            "premature-async",
            "Premature async",
            Mode.SYNC,
            "an async def that awaits nothing is plain sync code on the event loop: "
            "premature async is the new premature optimization",
            in_matrix=False,
        ),
    )
}


@dataclass
class Advice:
    """The advice for one route: the recommended mode, why, how sure, and what was unseen."""

    route: str
    router: str
    current: Mode | None
    mode: Mode
    row: Row
    reason: str
    action: str
    confidence: Confidence
    evidence: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    measured: Measured | None = None

    @property
    def agrees(self) -> bool:
        return self.current is self.mode

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "router": self.router,
            "current": self.current.value if self.current else None,
            "mode": self.mode.value,
            "row": self.row.key,
            "use_case": self.row.use_case,
            "reason": self.reason,
            "action": self.action,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "unseen": list(self.unseen),
            "measured": self.measured.to_dict() if self.measured else None,
        }


def _driver_row(evidence: RouteEvidence, mode: Mode) -> tuple[Row, list[str]]:
    drivers = [d for d in evidence.drivers if d.info.mode is mode and not d.offloaded]
    families = {d.family for d in drivers}
    said = [f"reaches {d.describe()}" for d in drivers]
    if mode is Mode.SYNC:
        if "sqlalchemy" in families:
            return ROWS["classic-sqlalchemy"], said
        return ROWS["blocking-library"], said
    if families == {"sqlalchemy"}:
        return ROWS["async-sqlalchemy"], said
    if families == {"http"}:
        return ROWS["external-http"], said
    return ROWS["high-concurrency-io"], said


def _structural(evidence: RouteEvidence) -> tuple[Row, list[str], bool]:
    """The row, the evidence said for it, and whether it rests on something found."""
    route = evidence.route
    if route.kind == "websocket":
        return ROWS["high-concurrency-io"], ["a websocket route"], True
    if evidence.cpu:
        return ROWS["cpu-heavy"], [f"CPU work: {text}" for text in evidence.cpu], True
    behind = [f"reaches {d.describe()}" for d in evidence.drivers if d.offloaded]
    sync_drivers = [d for d in evidence.drivers if d.info.mode is Mode.SYNC and not d.offloaded]
    if sync_drivers or evidence.blocking:
        row, said = _driver_row(evidence, Mode.SYNC)
        said += [f"blocking call: {text}" for text in evidence.blocking]
        return row, said, True
    if any(d.info.mode is Mode.ASYNC and not d.offloaded for d in evidence.drivers):
        row, said = _driver_row(evidence, Mode.ASYNC)
        return row, said + behind + evidence.awaits[:3], True
    if behind:  # everything it reaches runs in worker threads
        return ROWS["async-over-offload"], behind, True
    if route.mode is Mode.ASYNC and not evidence.awaits:
        said = ["awaits nothing, and reaches no async driver"]
        said += [f"on the event loop: {text}" for text in evidence.on_loop]
        return ROWS["premature-async"], said, False
    if route.mode is Mode.ASYNC:
        said = [*evidence.awaits[:3], "no known async driver on the chain"]
        return ROWS["high-concurrency-io"], said, False
    layers = [f"reaches {item.describe()}" for item in evidence.layers]
    return ROWS["simple-crud"], [*layers, "no driver, no blocking or CPU-marked call"], False


def _confidence(found: bool, evidence: RouteEvidence, row: Row) -> Confidence:
    if row.key == "high-concurrency-io" and not found:
        return "low"  # it awaits something, but nothing the tables know
    if found:
        return "medium" if evidence.unseen else "high"
    return "low" if evidence.unseen else "medium"


def _action(evidence: RouteEvidence, row: Row, app: str) -> str:
    current, name = evidence.route.mode, evidence.route.endpoint
    endpoint = name.call if name is not None else evidence.route.label
    target = evidence.router
    if row.key == "premature-async":
        return fixes.advise_make_def(endpoint)
    if row.key == "cpu-heavy":
        return fixes.advise_cpu_offload(current is Mode.ASYNC)
    if current is row.choice:
        return fixes.advise_keep(row.choice.value)
    return fixes.advise_migrate(app, row.choice.value, target)


def advise_route(
    evidence: RouteEvidence, measured: Measured | None = None, app: str = "APP"
) -> Advice:
    """The guide's answer for one route, from its evidence and, if given, its profile."""
    row, said, found = _structural(evidence)
    reason = row.reason
    confidence = _confidence(found, evidence, row)
    if measured is not None:
        row, reason = _with_measurement(row, evidence, measured)
        confidence = "high" if measured.requests >= 5 else confidence
    return Advice(
        route=evidence.route.label,
        router=evidence.router,
        current=evidence.route.mode,
        mode=row.choice,
        row=row,
        reason=reason,
        action=_action(evidence, row, app),
        confidence=confidence,
        evidence=said,
        unseen=list(evidence.unseen),
        measured=measured,
    )


def _with_measurement(row: Row, evidence: RouteEvidence, measured: Measured) -> tuple[Row, str]:
    """The structural row and reason, confirmed or overridden by where the time went."""
    said = measured.verdict_text()
    if measured.verdict == "cpu" and row.key not in ("classic-sqlalchemy", "blocking-library"):
        return ROWS["cpu-heavy"], f"{said}; {ROWS['cpu-heavy'].reason}"
    if measured.verdict == "waiting" and measured.in_offload:
        # the request waited on blocking work in worker threads: async over it buys nothing
        if row.choice is not Mode.SYNC:
            row = ROWS["async-over-offload"]
        return row, f"{said}; async pays only with an async driver"
    if measured.verdict == "waiting" and measured.in_thread:
        return row, (
            f"{said}: a blocking call holds the thread, so sync is as fast and simpler; "
            f"async pays only with an async driver"
        )
    if measured.verdict == "waiting" and row.key in ("classic-sqlalchemy", "blocking-library"):
        counterparts = [d.counterpart for d in evidence.drivers if d.info.mode is Mode.SYNC]
        other = next((name for name in counterparts if name), "an async driver")
        return row, (
            f"{said}, but a blocking driver is in the path: sync is as fast and simpler; "
            f"async pays only once the driver is {other}"
        )
    return row, f"{said}; {row.reason}"


@dataclass
class Rollup:
    """The advice of a group of routes (a router, the app): one mode, or mixed."""

    name: str
    routes: int
    modes: dict[str, int]
    mode: Mode | None
    premature: int
    disagree: int
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "routes": self.routes,
            "modes": dict(self.modes),
            "mode": self.mode.value if self.mode else None,
            "premature_async": self.premature,
            "to_change": self.disagree,
            "summary": self.summary,
        }


def roll_up(name: str, advice: list[Advice]) -> Rollup:
    """One recommendation for a router or the app: the mode every route agrees on, or mixed."""
    modes = Counter(item.mode.value for item in advice)
    premature = sum(1 for item in advice if item.row.key == "premature-async")
    disagree = sum(1 for item in advice if not item.agrees)
    mode = Mode(next(iter(modes))) if len(modes) == 1 else None
    if mode is not None:
        summary = f"{mode.value}: all {len(advice)} route(s) agree"
    else:
        parts = ", ".join(f"{count} {value}" for value, count in sorted(modes.items()))
        summary = f"mixed ({parts}): one mode per feature; split the routes that differ"
    if disagree:
        summary += f"; {disagree} route(s) should change mode"
    return Rollup(name, len(advice), dict(modes), mode, premature, disagree, summary)
