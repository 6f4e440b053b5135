"""The advice for a whole app: per route, rolled up per router and for the app, and threads.

``advise_app`` is what the command runs after loading the app and auditing it
as ``check`` does: the evidence of every route, the matrix applied to each,
the profile (when given) measured per route template, the rollups, and the
threadpool reality (threads held at peak against the pool and the database pool).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from .._audit.report import AppReport
from .._common.errors import LimiterError
from .._common.sites import relative_path
from .._offload.threads import pool_capacity
from .._runtime.profile_format import Profile
from .evidence import RouteEvidence, gather
from .profile_reading import ThreadAdvice, measure, thread_advice
from .recommend import Advice, Rollup, advise_route, roll_up

__all__ = ["AppAdvice", "advise_app", "database_pools"]

SCHEMA = "https://fastapi-boundary.readthedocs.io/en/latest/advise/#the-json-format"
VERSION = 1


@dataclass
class AppAdvice:
    """Everything ``advise`` prints."""

    routes: list[Advice]
    routers: list[Rollup]
    app: Rollup
    threads: ThreadAdvice | None = None
    profile: str | None = None
    unmeasured: list[str] = field(default_factory=list)
    evidence: list[RouteEvidence] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        from ..__about__ import __version__

        return {
            "schema": SCHEMA,
            "version": VERSION,
            "tool": {"name": "fastapi-boundary", "version": __version__},
            "app": self.app.to_dict(),
            "routers": [rollup.to_dict() for rollup in self.routers],
            "routes": [advice.to_dict() for advice in self.routes],
            "profile": self.profile,
            "threads": self.threads.to_dict() if self.threads else None,
            "unmeasured": list(self.unmeasured),
        }


def database_pools(evidence: list[RouteEvidence]) -> int | None:
    """Connections the app's SQLAlchemy engines can hand out, read off the live modules."""
    modules = {
        getattr(item.route.endpoint.call_object, "__module__", "")
        for item in evidence
        if item.route.endpoint is not None
    }
    for item in evidence:
        modules.update(getattr(owner, "__module__", "") for owner in item.chain)
    packages = {name.partition(".")[0] for name in modules if name}
    total, seen = 0, set()
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in packages or module is None:
            continue
        for value in list(vars(module).values()):
            if type(value).__name__ not in ("Engine", "AsyncEngine") or id(value) in seen:
                continue
            if not type(value).__module__.startswith("sqlalchemy"):
                continue
            seen.add(id(value))
            try:
                total += pool_capacity(value)
            except LimiterError:  # no fixed size (SQLite's StaticPool): nothing to size from
                continue
    return total or None


def advise_app(
    report: AppReport,
    app: Any,
    *,
    profile: Profile | None = None,
    profile_path: str | None = None,
    target: str = "APP",
) -> AppAdvice:
    """The advice for every route of ``report`` (the audit of ``app``)."""
    evidence = gather(app, report)
    advice: list[Advice] = []
    unmeasured: list[str] = []
    for found in evidence:
        measured = None
        if profile is not None:
            times = profile.routes.get(found.route.label)
            measured = measure(times) if times is not None else None
            if measured is None:
                unmeasured.append(found.route.label)
        advice.append(advise_route(found, measured, target))
    by_router: dict[str, list[Advice]] = {}
    for item in advice:
        by_router.setdefault(item.router, []).append(item)
    routers = [roll_up(name, items) for name, items in by_router.items()]
    threads = thread_advice(profile, database_pools(evidence)) if profile is not None else None
    shown = relative_path(profile_path) if profile_path else None
    return AppAdvice(advice, routers, roll_up(target, advice), threads, shown, unmeasured, evidence)
