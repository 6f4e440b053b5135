"""Adopting the audit on an app that is not clean yet: rules, suppressions, the baseline.

`adopt` runs after ``check_app`` has found everything, in this order:

1. ``select``/``ignore`` (configuration): findings of the rules not reported
   are dropped;
2. suppressions, in code (``@suppress_rule``, ``suppress=``) and in the
   configuration: the findings they cover are set aside, with their reason;
3. the baseline: the findings it knows are set aside.

What is left is what is new, and fails.  What was set aside, and what no
longer covers anything (stale suppressions and baseline entries, which fail
too), is recorded in an `Adoption` the report carries, so every format can
say it.  `verdict` turns a report and a policy into an exit status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._common.config import EMPTY, BoundaryConfig, Suppression
from .._common.policy import Policy
from .._common.sites import relative_path
from .._common.violations import Violation
from . import suppressions as sup
from .baseline import BaselineEntry, load_baseline, write_baseline
from .config_layers import qualified_name
from .findings import Finding, group_findings
from .report import AppReport, RouteReport

__all__ = ["Adoption", "Suppressed", "adopt", "adoption_of", "update_baseline", "verdict"]


@dataclass(frozen=True)
class Suppressed:
    """A violation set aside by a suppression."""

    violation: Violation
    suppression: Suppression


def _plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@dataclass
class Adoption:
    """What the configuration and the suppressions did to a report.

    ``ignored``: violations of rules not reported (``select``/``ignore``);
    ``suppressed``: violations a suppression covers; ``baselined``: the
    findings the baseline knows.  ``stale_suppressions`` and
    ``stale_baseline`` cover nothing any more: they fail the report (``ok``
    is false) until they are removed.
    """

    baseline: Path | None = None
    ignored: list[Violation] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    stale_suppressions: list[Suppression] = field(default_factory=list)
    stale_baseline: list[BaselineEntry] = field(default_factory=list)

    @property
    def stale(self) -> int:
        return len(self.stale_suppressions) + len(self.stale_baseline)

    @property
    def ok(self) -> bool:
        return not self.stale

    def summary(self) -> str:
        """``2 known to the baseline, 3 suppressed, 1 stale``: empty when nothing was set aside."""
        parts = []
        if self.baselined:
            parts.append(f"{_plural(len(self.baselined), 'finding')} known to the baseline")
        if self.suppressed:
            parts.append(f"{_plural(len(self.suppressed), 'violation')} suppressed")
        if self.ignored:
            parts.append(f"{_plural(len(self.ignored), 'violation')} of ignored rules")
        if self.stale:
            parts.append(f"{self.stale:,} stale {'entry' if self.stale == 1 else 'entries'}")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """The table's section: what was set aside, and the stale entries with their fix."""
        lines: list[str] = []
        if self.baselined:
            where = f" ({_shown(self.baseline)})" if self.baseline else ""
            lines.append(f"Known to the baseline{where}: {_plural(len(self.baselined), 'finding')}")
        if self.ignored:
            rules = ", ".join(sorted({v.rule.code for v in self.ignored}))
            lines.append(f"Ignored rules ({rules}): {_plural(len(self.ignored), 'violation')}")
        if self.suppressed:
            covered: dict[Suppression, int] = {}
            for item in self.suppressed:
                covered[item.suppression] = covered.get(item.suppression, 0) + 1
            lines.append(f"Suppressed: {_plural(len(self.suppressed), 'violation')}")
            for suppression, count in covered.items():
                lines.append(f"  {suppression.describe()} [{_plural(count, 'violation')}]")
        if self.stale:
            lines.append(f"Stale, covering nothing now (remove them): {self.stale}")
            for entry in self.stale_baseline:
                lines.append(f"  {entry.source}: {entry.rule} {entry.summary}")
            for suppression in self.stale_suppressions:
                lines.append(f"  suppression {suppression.describe()}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "baseline": str(self.baseline) if self.baseline else None,
            "baselined": [finding.fingerprint for finding in self.baselined],
            "suppressed": [
                {
                    "rule": item.violation.rule.code,
                    "summary": item.violation.summary,
                    "suppression": item.suppression.to_dict(),
                }
                for item in self.suppressed
            ],
            "ignored": len(self.ignored),
            "stale_baseline": [entry.to_dict() for entry in self.stale_baseline],
            "stale_suppressions": [item.to_dict() for item in self.stale_suppressions],
        }


def _shown(path: Path | None) -> str:
    return relative_path(str(path)) if path is not None else ""


def adoption_of(report: AppReport) -> Adoption | None:
    """What `adopt` recorded on ``report`` (``None``: nothing to say)."""
    return report.adoption


def _drop(report: AppReport, unwanted: Callable[[Violation, RouteReport | None], bool]) -> None:
    """Remove the violations ``unwanted`` picks (layer violations get ``None`` as route)."""
    kept = []
    for violation in report.layer_violations:
        if unwanted(violation, None):
            report.layer_routes.pop(violation, None)
        else:
            kept.append(violation)
    report.layer_violations[:] = kept
    for route in report.routes:
        route.violations[:] = [v for v in route.violations if not unwanted(v, route)]


# --- suppressions ----------------------------------------------------------------------


class _Matcher:
    """Which suppression covers a violation; remembers which ones covered anything."""

    def __init__(
        self, configured: Iterable[Suppression], report: AppReport, known: Iterable[object]
    ) -> None:
        self.configured = list(configured)
        objects: list[object] = []
        for route in report.routes:
            for node in route.endpoint.walk() if route.endpoint is not None else ():
                objects.extend(o for o in (node.call_object, node.layer_owner) if o is not None)
        objects.extend(known)
        self.in_code: dict[Suppression, None] = {}  # an ordered set
        for obj in objects:
            for item in sup.suppressions_of(obj):
                self.in_code[item] = None
        self.active = bool(self.configured or self.in_code)
        self.index = sup.index_objects(objects) if self.active else {}
        self.used: set[Suppression] = set()

    def covering(self, violation: Violation, route: RouteReport | None) -> Suppression | None:
        code = violation.rule.code
        involved = sup.party_objects(violation, self.index)
        if route is not None:
            for node in sup.chain_nodes(route, violation):
                involved.extend(o for o in (node.call_object, node.layer_owner) if o is not None)
        hits = [item for obj in involved for item in sup.suppressions_of(obj) if item.rule == code]
        names = {qualified_name(obj) for obj in involved}
        for item in self.configured:
            if item.rule != code:
                continue
            if item.scope == "route":
                if route is not None and sup.matches_route(item.target, route):
                    hits.append(item)
            elif any(sup.matches_name(item.target, name) for name in names):
                hits.append(item)
        self.used.update(hits)
        return hits[0] if hits else None

    def stale(self) -> list[Suppression]:
        listed = [*self.in_code, *self.configured]
        return [item for item in dict.fromkeys(listed) if item not in self.used]


# --- the baseline ----------------------------------------------------------------------


def _finding_key(finding: Finding) -> tuple[object, ...]:
    """A finding's cause, as ``findings.group_findings`` groups violations into it."""
    return (
        finding.rule,
        finding.summary,
        finding.chain,
        finding.subject,
        finding.other,
        finding.fix,
    )


def _violation_key(violation: Violation) -> tuple[object, ...]:
    return (
        violation.rule,
        violation.cause_summary,
        violation.cause_chain,
        violation.subject,
        violation.other,
        violation.fix,
    )


def adopt(
    report: AppReport, config: BoundaryConfig | None, known: Iterable[object] = ()
) -> AppReport:
    """Apply ``config`` (rules, suppressions, the baseline) and the code's suppressions.

    ``known`` are the layers and drivers the audit reached beyond the
    routes' trees (their suppressions count too).  Returns ``report``, with
    what was set aside in ``report.adoption`` when anything was.
    """
    config = config or EMPTY
    adoption = Adoption(baseline=config.baseline)
    if config.select is not None or config.ignore:

        def unreported(violation: Violation, route: RouteReport | None) -> bool:
            if config.reports(violation.rule.code):
                return False
            adoption.ignored.append(violation)
            return True

        _drop(report, unreported)
    matcher = _Matcher(config.suppress, report, known)
    if matcher.active:

        def suppressed(violation: Violation, route: RouteReport | None) -> bool:
            by = matcher.covering(violation, route)
            if by is None:
                return False
            adoption.suppressed.append(Suppressed(violation, by))
            return True

        _drop(report, suppressed)
        adoption.stale_suppressions = matcher.stale()
    if config.baseline is not None:
        entries = load_baseline(config.baseline)
        findings = group_findings(report)
        fingerprints = {entry.fingerprint for entry in entries}
        adoption.baselined = [f for f in findings if f.fingerprint in fingerprints]
        present = {finding.fingerprint for finding in findings}
        adoption.stale_baseline = [e for e in entries if e.fingerprint not in present]
        keys = {_finding_key(finding) for finding in adoption.baselined}
        if keys:
            _drop(report, lambda violation, route: _violation_key(violation) in keys)
    if config.present or matcher.active:
        report.adoption = adoption
    return report


def update_baseline(report: AppReport, path: str | Path) -> list[BaselineEntry]:
    """Write the report's findings (and those its baseline already knew) to ``path``."""
    adoption = adoption_of(report)
    known = adoption.baselined if adoption is not None else []
    return write_baseline(path, [*group_findings(report), *known])


def verdict(report: AppReport, policy: Policy) -> int:
    """The exit status: 1 when the report fails (``ok`` is false) and the policy is ``strict``."""
    return 1 if not report.ok and policy == "strict" else 0
