"""Rendering the advice and the migration plan: a table for people, JSON for machines."""

from __future__ import annotations

import json

from .plan import Plan
from .recommend import Advice
from .report import AppAdvice

__all__ = ["FORMATS", "render_advice", "render_plan"]

FORMATS = ("table", "json")


def _route_lines(advice: Advice, verbose: bool) -> list[str]:
    current = advice.current.value if advice.current else "?"
    change = "ok" if advice.agrees else f"{current} -> {advice.mode.value}"
    lines = [
        f"  {advice.route}  {advice.mode.value}  [{advice.row.use_case}]  "
        f"confidence {advice.confidence}  {change}",
        f"      why: {advice.reason}",
    ]
    if not advice.agrees or advice.row.key == "cpu-heavy":
        lines.append(f"      do: {advice.action}")
    shown = advice.evidence if verbose else advice.evidence[:3]
    lines.extend(f"      seen: {text}" for text in shown)
    if len(advice.evidence) > len(shown):
        lines.append(f"      seen: and {len(advice.evidence) - len(shown)} more (--verbose)")
    lines.extend(f"      not seen: {text}" for text in advice.unseen)
    return lines


def render_advice(result: AppAdvice, fmt: str, *, verbose: bool = False) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2)
    lines = [f"Advice for {result.app.name}: {result.app.summary}"]
    premature = result.app.premature
    if premature:
        lines.append(f"  {premature} premature async route(s): async def that awaits nothing")
    lines.append("")
    lines.append(f"Routers ({len(result.routers)}):")
    for rollup in result.routers:
        lines.append(f"  {rollup.name}: {rollup.summary}")
    lines.append("")
    lines.append(f"Routes ({len(result.routes)}):")
    for advice in result.routes:
        lines.extend(_route_lines(advice, verbose))
    if result.profile is not None:
        lines.append("")
        lines.append(f"Profile: {result.profile}")
        if result.threads is not None:
            lines.append(f"  threads: {result.threads.text}")
        if result.unmeasured:
            lines.append(f"  no sampled request for: {', '.join(result.unmeasured)}")
    return "\n".join(lines)


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan.to_dict(), indent=2)
    lines = [
        f"Migration plan: {plan.target} to {plan.mode.value} "
        f"({len(plan.routes)} route(s): {', '.join(plan.routes)})",
    ]
    for entry in plan.shared:
        lines.append(f"  shared: {entry['text']}")
        if entry["boundary"]:
            lines.append(f"    instead: {entry['boundary']}")
    lines.append("")
    for order, step in enumerate(plan.steps, 1):
        driver = f", driver {step.driver[0]} -> {step.driver[1]}" if step.driver else ""
        lines.append(
            f"{order}. {step.kind} {step.object} ({step.file}:{step.line}): "
            f"{step.source.value} -> {step.target.value}{driver}"
        )
        if step.summary:
            lines.append(f"     {step.summary}")
        for edit in step.edits:
            if edit.edit == "insert":
                first = edit.new.splitlines()[0] if edit.new else ""
                lines.append(f"     {edit.file}:{edit.line}: insert {first!r} ...")
            else:
                lines.append(f"     {edit.file}:{edit.line}: {edit.old!r} -> {edit.new!r}")
        lines.extend(f"     refused until done: {text}" for text in step.refused)
        lines.extend(f"     by hand: {text}" for text in step.notes)
    if plan.manual:
        lines.append("")
        lines.extend(f"by hand: {text}" for text in plan.manual)
    lines.append("")
    lines.append(f"then: {plan.check}")
    return "\n".join(lines)
