"""One finding per cause: the report's violations grouped by what is wrong, not by route.

A cause is the party at fault (the endpoint, dependency, layer or method),
the layer or driver it reaches, and the chain from the one to the other.
One async dependency handed a sync ``Session`` is one cause however many
routes use it, and however many times each route's tree reaches it: it
becomes one `Finding` that lists the routes it affects.

Each finding has a fingerprint that survives unrelated edits: a hash of the
rule, the parties' roles, names and files, and the chain -- no line numbers
-- so CI systems (SARIF's ``partialFingerprints``) track it across commits.

The JSON report (`report_document`, schema version 1, documented in
``docs/cli.md``) is built here too: it is a rendering of the findings, ending
with the body analysis's coverage.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .._common.sites import Site
from .._common.violations import Party, Rule, Violation
from .report import AppReport, Coverage

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "SHOWN_ROUTES",
    "Finding",
    "Summary",
    "error_document",
    "group_findings",
    "report_document",
    "summarize",
]

SCHEMA = "https://fastapi-boundary.readthedocs.io/en/latest/cli/#the-json-format"
SCHEMA_VERSION = 1
SHOWN_ROUTES = 5  # routes a finding names in the table and annotations (all with --verbose)
FINGERPRINT_KEY = "fastapiBoundary/v1"  # the key of SARIF's partialFingerprints


def plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True)
class Finding:
    """One cause, with the routes it affects.

    ``summary`` and ``chain`` name no route (the chain runs from the subject
    to the other party); ``routes`` are the labels of the routes whose trees
    reach the cause, in report order; ``occurrences`` is how many violations
    were grouped into it (a route can reach one cause more than once).
    """

    rule: Rule
    summary: str
    subject: Party
    other: Party | None
    chain: tuple[str, ...]
    fix: str
    routes: tuple[str, ...]
    occurrences: int
    fingerprint: str = ""

    @property
    def site(self) -> Site:
        """Where to annotate: the subject's definition."""
        return self.subject.site

    @property
    def docs(self) -> str:
        return self.rule.docs_url

    def routes_text(self, limit: int | None = SHOWN_ROUTES) -> str:
        """``GET /a, GET /b and 3 more``: the routes, the first ``limit`` of them."""
        shown = self.routes if limit is None else self.routes[:limit]
        text = ", ".join(shown)
        hidden = len(self.routes) - len(shown)
        if hidden:
            text += f" and {hidden:,} more (--verbose lists them)"
        return text

    def message(self, limit: int | None = SHOWN_ROUTES) -> str:
        """The finding as the table prints it: like a violation's message, plus its routes."""
        lines = [f"{self.rule.code} {self.rule.slug}: {self.summary}"]
        if len(self.chain) > 1:
            lines.append(f"  chain: {' -> '.join(self.chain)}")
        lines.append(f"  fix: {self.fix}")
        lines.append(f"  docs: {self.docs}")
        if self.routes:
            lines.append(f"  routes ({len(self.routes):,}): {self.routes_text(limit)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.code,
            "slug": self.rule.slug,
            "fingerprint": self.fingerprint,
            "summary": self.summary,
            "subject": self.subject.to_dict(),
            "other": self.other.to_dict() if self.other else None,
            "chain": list(self.chain),
            "fix": self.fix,
            "docs": self.docs,
            "occurrences": self.occurrences,
            "routes": list(self.routes),
        }


@dataclass
class _Group:
    first: Violation
    routes: dict[str, None] = field(default_factory=dict)  # an ordered set
    occurrences: int = 0


def _cause(violation: Violation) -> tuple[object, ...]:
    """What makes two violations the same cause: everything but the route."""
    return (
        violation.rule,
        violation.cause_summary,
        violation.cause_chain,
        violation.subject,
        violation.other,
        violation.fix,
    )


def _path(site: Site) -> str:
    return site.file.replace("\\", "/")


_LINE = re.compile(r":\d+\)$")


def _identity(finding: Finding) -> str:
    """The fingerprint's input: rule, parties (role, name, file) and chain; no line numbers.

    An R5 finding is the function on the loop and the call it makes there
    (the first two links of its chain, each ``(file:line)`` without the line):
    what that call reaches deeper, and so the other party, may change as the
    catalogue or the declared layers learn more without it being another cause.
    """
    parts = [finding.rule.code]
    parties = (finding.subject, None if finding.rule is Rule.R5 else finding.other)
    for party in parties:
        if party is not None:
            parts += [party.role, party.name, _path(party.site)]
        else:
            parts.append("-")
    chain = finding.chain[:2] if finding.rule is Rule.R5 else finding.chain
    parts.append(" -> ".join(_LINE.sub(")", link.replace("\\", "/")) for link in chain))
    return "\x1f".join(parts)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _order(finding: Finding) -> tuple[object, ...]:
    return (_path(finding.site), finding.site.line, finding.rule.code, finding.summary)


def group_findings(report: AppReport) -> list[Finding]:
    """The report's violations, one `Finding` per cause, ordered by file, line and rule.

    Layer violations affect the routes whose trees reach the layer; a route's
    own violations affect that route.  Findings that would share a fingerprint
    (the same names in the same files, at different lines) get distinct ones,
    numbered in file order.
    """
    groups: dict[tuple[object, ...], _Group] = {}

    def add(violation: Violation, routes: Iterable[str]) -> None:
        key = _cause(violation)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(violation)
        group.occurrences += 1
        for route in routes:
            group.routes[route] = None

    for violation in report.layer_violations:
        add(violation, report.layer_routes.get(violation, ()))
    for route in report.routes:
        for violation in route.violations:
            add(violation, (route.label,))
    findings = sorted(
        (
            Finding(
                rule=group.first.rule,
                summary=group.first.cause_summary,
                subject=group.first.subject,
                other=group.first.other,
                chain=group.first.cause_chain,
                fix=group.first.fix,
                routes=tuple(group.routes),
                occurrences=group.occurrences,
            )
            for group in groups.values()
        ),
        key=_order,
    )
    seen: Counter[str] = Counter()
    stamped = []
    for finding in findings:
        base = _digest(_identity(finding))
        seen[base] += 1
        fingerprint = base if seen[base] == 1 else _digest(f"{base}#{seen[base]}")
        stamped.append(replace(finding, fingerprint=fingerprint))
    return stamped


@dataclass(frozen=True)
class Summary:
    """The counts at the top of every format."""

    routes: int
    mounts: int
    findings: int
    violations: int
    routes_affected: int
    by_rule: dict[str, int]
    unclassified: int
    notes: int
    import_failed: bool
    coverage: Coverage | None = None

    def text(self) -> str:
        """``3 findings affecting 2,001 of 5,000 routes (4,400 violations)``, or the clean case.

        "No findings" only when the body analysis covered everything; otherwise
        it says what the absence of findings covers.
        """
        if self.import_failed:
            return (
                f"{plural(self.findings, 'finding')} raised while the app was imported; "
                "the app did not load, so no route was audited"
            )
        routes = plural(self.routes, "route")
        if not self.findings and self.coverage is not None and not self.coverage.complete:
            text = f"no finding in what was analysed ({self.coverage.qualifier()}) of {routes}"
        elif not self.findings:
            text = f"no findings in {routes}"
        else:
            text = (
                f"{plural(self.findings, 'finding')} affecting {self.routes_affected:,} of {routes}"
            )
            if self.violations != self.findings:
                text += f" ({self.violations:,} violations, grouped by cause)"
        if self.mounts:
            text += f"; {plural(self.mounts, 'mounted app')} not inspected"
        return text

    def rules_text(self) -> str:
        """``by rule: R2 callable-mode 1, R3 same-mode-dependencies 2``."""
        names = {rule.code: f"{rule.code} {rule.slug}" for rule in Rule}
        return "by rule: " + ", ".join(
            f"{names.get(code, code)} {count:,}" for code, count in self.by_rule.items()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "routes": self.routes,
            "mounts": self.mounts,
            "findings": self.findings,
            "violations": self.violations,
            "routes_affected": self.routes_affected,
            "by_rule": dict(self.by_rule),
            "unclassified": self.unclassified,
            "notes": self.notes,
        }


def summarize(report: AppReport, findings: list[Finding]) -> Summary:
    by_rule = Counter(finding.rule.code for finding in findings)
    affected = {route for finding in findings for route in finding.routes}
    return Summary(
        routes=len(report.routes),
        mounts=len(report.mounts),
        findings=len(findings),
        violations=sum(finding.occurrences for finding in findings),
        routes_affected=len(affected),
        by_rule=dict(sorted(by_rule.items())),
        unclassified=len(report.unclassified),
        notes=len(report.notes),
        import_failed=report.import_failed,
        coverage=report.coverage,
    )


def _tool() -> dict[str, str]:
    from ..__about__ import __version__

    return {"name": "fastapi-boundary", "version": __version__}


def report_document(
    report: AppReport, *, verbose: bool = False, findings: list[Finding] | None = None
) -> dict[str, Any]:
    """The JSON report, schema version 1: each cause once, each route once."""
    if findings is None:
        findings = group_findings(report)
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": _tool(),
        "ok": not findings,
        "import_failed": report.import_failed,
        "error": None,
        "summary": summarize(report, findings).to_dict(),
        "findings": [finding.to_dict() for finding in findings],
        "routes": [route.to_dict(tree=verbose) for route in report.routes],
        "mounts": [{"path": mount.path, "note": mount.note} for mount in report.mounts],
        "notes": list(report.notes),
        "coverage": report.coverage.to_dict() if report.coverage is not None else None,
    }


def error_document(message: str, site: Site | None = None) -> dict[str, Any]:
    """The JSON report when there is nothing to audit: the app did not load, or has no routes."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": _tool(),
        "ok": False,
        "import_failed": False,
        "error": {
            "message": message,
            "file": site.file if site is not None else None,
            "line": site.line if site is not None and site.line else None,
        },
        "summary": None,
        "findings": [],
        "routes": [],
        "mounts": [],
        "notes": [],
        "coverage": None,
    }
