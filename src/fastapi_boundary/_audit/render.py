"""Rendering an `AppReport`: a table for people, JSON and CI annotations for machines."""

from __future__ import annotations

import json

from .._common.violations import Violation
from .report import AppReport, DependencyNode, RouteReport

__all__ = ["render", "render_github", "render_json", "render_table"]

FORMATS = ("table", "json", "github")


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


def _route_lines(route: RouteReport) -> list[str]:
    mode = route.mode.value if route.mode else "?"
    declared = " (declared)" if route.declared_mode else ""
    status = "ok" if not route.violations else f"{len(route.violations)} violation(s)"
    head = f"{route.label}  {mode}{declared}  hops={route.thread_hops}  {status}"
    lines = [head]
    if route.endpoint is not None:
        lines.append(f"    {_node_line(route.endpoint)}")
        lines.extend(_tree_lines(route.endpoint, "    "))
    if route.note:
        lines.append(f"    note: {route.note}")
    return lines


def _violation_lines(violation: Violation) -> list[str]:
    return ["  " + line for line in violation.message.splitlines()]


def render_table(report: AppReport) -> str:
    """A readable report: each route with its tree, then violations, notes and a summary."""
    lines: list[str] = []
    for route in report.routes:
        lines.extend(_route_lines(route))
    violations = report.violations
    if violations:
        if lines:
            lines.append("")
        lines.append(f"Violations ({len(violations)}):")
        for violation in violations:
            lines.extend(_violation_lines(violation))
    if report.notes:
        if lines:
            lines.append("")
        lines.append("Notes:")
        lines.extend(f"  {note}" for note in report.notes)
    if lines:
        lines.append("")
    lines.append(report.summary())
    return "\n".join(lines)


def render_json(report: AppReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: AppReport) -> str:
    """One GitHub Actions ``::error`` workflow command per violation, then a notice."""
    lines = []
    for violation in report.violations:
        site = violation.site
        location = f"file={_escape_property(site.file)}"
        if site.line:
            location += f",line={site.line}"
        title = _escape_property(f"fastapi-boundary {violation.rule.code} {violation.rule.slug}")
        lines.append(f"::error {location},title={title}::{_escape(violation.message)}")
    lines.append(f"::notice title=fastapi-boundary::{_escape(report.summary())}")
    return "\n".join(lines)


def render(report: AppReport, format: str) -> str:
    if format == "json":
        return render_json(report)
    if format == "github":
        return render_github(report)
    return render_table(report)
