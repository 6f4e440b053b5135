"""Rendering an `AppReport`: a table for people; JSON, SARIF and CI annotations for machines.

Every format prints findings (``findings.py``), one per cause, never one
per route: an app of thousands of routes that share three mistakes gets a
report of three findings.  The table then lists the routes, one line each
(their dependency trees with ``verbose``); ``quiet`` keeps only the
findings.  Every format ends with the coverage of the body analysis: what
"no finding" covers, and what could not be looked at.
"""

from __future__ import annotations

import json

from .._common.sites import Site
from .findings import (
    SHOWN_ROUTES,
    Finding,
    error_document,
    group_findings,
    report_document,
    summarize,
)
from .report import AppReport, DependencyNode, RouteReport

__all__ = [
    "FORMATS",
    "render",
    "render_error",
    "render_github",
    "render_json",
    "render_table",
]

FORMATS = ("table", "json", "github", "sarif")


def _node_line(node: DependencyNode) -> str:
    mode = node.mode.value if node.mode else "?"
    text = (
        f"{node.name}: {node.call} [{mode}]"
        if node.name != "endpoint"
        else f"endpoint {node.call} [{mode}]"
    )
    if node.layer is not None:
        arrow = "provides" if node.provides else "is"
        text += f" {arrow} {node.layer.role} {node.layer_name}"
    text += f"  ({node.site})"
    if node.note:
        text += f"  -- {node.note}"
    return text


def _tree_lines(node: DependencyNode, indent: str) -> list[str]:
    lines = []
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        lines.append(f"{indent}{'`-- ' if last else '|-- '}{_node_line(child)}")
        lines.extend(_tree_lines(child, indent + ("    " if last else "|   ")))
    return lines


def _route_lines(route: RouteReport, numbers: list[int], verbose: bool) -> list[str]:
    mode = route.mode.value if route.mode else "?"
    declared = " (declared)" if route.declared_mode else ""
    if not numbers:
        status = "ok"
    else:
        status = ("finding " if len(numbers) == 1 else "findings ") + ", ".join(
            f"#{number}" for number in numbers
        )
    lines = [f"  {route.label}  {mode}{declared}  hops={route.thread_hops}  {status}"]
    if verbose and route.endpoint is not None:
        sources = route.hop_sources()
        if sources:
            lines.append("      hops: " + " + ".join(f"{what} {hops}" for what, hops in sources))
        lines.append(f"      {_node_line(route.endpoint)}")
        lines.extend(_tree_lines(route.endpoint, "      "))
    if route.note:
        lines.append(f"      note: {route.note}")
    return lines


def _finding_lines(number: int, finding: Finding, verbose: bool) -> list[str]:
    lines = finding.message(None if verbose else SHOWN_ROUTES).splitlines()
    if verbose and len(finding.routes) > 1:  # one route per line
        lines[-1] = f"  routes ({len(finding.routes):,}):"
        lines.extend(f"    {route}" for route in finding.routes)
    lines[0] = f"#{number} {lines[0]}"
    return lines


def render_table(
    report: AppReport,
    *,
    quiet: bool = False,
    verbose: bool = False,
    findings: list[Finding] | None = None,
) -> str:
    """The summary, the findings, notes, mounts, one line per route, the coverage, the summary.

    ``quiet``: the summary, the findings, the coverage and the summary again.  ``verbose``:
    every route a finding affects, each route's hops and dependency tree, and
    every unresolved receiver.
    """
    if findings is None:
        findings = group_findings(report)
    summary = summarize(report, findings)
    set_aside = report.adoption.summary() if report.adoption is not None else ""
    headline = f"{summary.text()}; {set_aside}" if set_aside else summary.text()
    lines = [headline]
    if findings:
        lines.append(summary.rules_text())
    for number, finding in enumerate(findings, 1):
        lines.append("")
        lines.extend(_finding_lines(number, finding, verbose))
    if set_aside and report.adoption is not None:  # the baseline, suppressions, stale entries
        lines.append("")
        lines.extend(report.adoption.lines())
    coverage = report.coverage.lines(None if verbose else SHOWN_ROUTES) if report.coverage else []
    if quiet or not (report.notes or report.mounts or report.routes):
        if coverage:
            lines.append("")
            lines.extend(coverage)
            lines.append("")
            lines.append(headline)  # the last line a log shows is the summary
        return "\n".join(lines)
    if report.notes:
        lines.append("")
        lines.append(f"Notes ({len(report.notes):,}):")
        lines.extend(f"  {note}" for note in report.notes)
    if report.mounts:
        lines.append("")
        lines.append(f"Mounted apps not inspected ({len(report.mounts):,}):")
        lines.extend(f"  {mount.path}: {mount.note}" for mount in report.mounts)
    if report.routes:
        numbers: dict[str, list[int]] = {}
        for number, finding in enumerate(findings, 1):
            for label in finding.routes:
                numbers.setdefault(label, []).append(number)
        lines.append("")
        lines.append(f"Routes ({len(report.routes):,}):")
        for route in report.routes:
            lines.extend(_route_lines(route, numbers.get(route.label, []), verbose))
    if coverage:
        lines.append("")
        lines.extend(coverage)
    lines.append("")
    lines.append(headline)  # again: the last line a terminal or CI log shows
    return "\n".join(lines)


def render_json(
    report: AppReport, *, verbose: bool = False, findings: list[Finding] | None = None
) -> str:
    """The JSON report (schema version 1); ``verbose`` adds each route's hops and tree."""
    document = report_document(report, verbose=verbose, findings=findings)
    if report.adoption is not None:  # what the baseline and suppressions set aside
        document["ok"] = document["ok"] and report.adoption.ok
        document["adoption"] = report.adoption.to_dict()
    return json.dumps(document, indent=2)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _location(site: Site | None) -> str:
    if site is None or not site.known:
        return ""
    location = f"file={_escape_property(site.file)}"
    if site.line:
        location += f",line={site.line}"
    return location + ","


def render_github(
    report: AppReport, *, verbose: bool = False, findings: list[Finding] | None = None
) -> str:
    """One GitHub Actions ``::error`` per finding, at the cause's ``file:line``, then a notice.

    GitHub shows the first 10 annotations of a step: one per cause keeps every
    cause visible where one per route would bury the second under the first.
    """
    if findings is None:
        findings = group_findings(report)
    lines = []
    for finding in findings:
        title = _escape_property(f"fastapi-boundary {finding.rule.code} {finding.rule.slug}")
        message = _escape(finding.message(None if verbose else SHOWN_ROUTES))
        lines.append(f"::error {_location(finding.site)}title={title}::{message}")
    if report.adoption is not None:  # a stale entry fails the check: say it where CI shows it
        title = _escape_property("fastapi-boundary stale entry")
        for entry in report.adoption.stale_baseline:
            message = f"{entry.source}: remove the entry, its finding is gone: {entry.summary}"
            lines.append(f"::error title={title}::{_escape(message)}")
        for item in report.adoption.stale_suppressions:
            message = f"remove the suppression, it covers nothing: {item.describe()}"
            lines.append(f"::error title={title}::{_escape(message)}")
    if report.coverage is not None:
        title = _escape_property("fastapi-boundary coverage")
        shown = report.coverage.lines(None if verbose else SHOWN_ROUTES)
        lines.append(f"::notice title={title}::{_escape(chr(10).join(shown))}")
    summary = summarize(report, findings).text()
    lines.append(f"::notice title=fastapi-boundary::{_escape(summary)}")
    return "\n".join(lines)


def render(report: AppReport, format: str, *, quiet: bool = False, verbose: bool = False) -> str:
    """``report`` in ``format`` (one of `FORMATS`)."""
    findings = group_findings(report)
    if format == "json":
        return render_json(report, verbose=verbose, findings=findings)
    if format == "github":
        return render_github(report, verbose=verbose, findings=findings)
    if format == "sarif":
        from .sarif import render_sarif

        return render_sarif(report, verbose=verbose, findings=findings)
    return render_table(report, quiet=quiet, verbose=verbose, findings=findings)


def render_error(
    format: str, message: str, site: Site | None = None, exit_code: int = 2
) -> str | None:
    """A document in ``format`` that says the audit could not run; ``None`` for the table.

    With a machine format, stdout must still parse when the app cannot be
    loaded: JSON gets an ``error`` field, SARIF an unsuccessful invocation with
    a notification, GitHub an ``::error`` annotation.
    """
    if format == "json":
        return json.dumps(error_document(message, site), indent=2)
    if format == "github":
        title = _escape_property("fastapi-boundary could not audit the app")
        return f"::error {_location(site)}title={title}::{_escape(message)}"
    if format == "sarif":
        from .sarif import sarif_error

        return json.dumps(sarif_error(message, site, exit_code), indent=2)
    return None
