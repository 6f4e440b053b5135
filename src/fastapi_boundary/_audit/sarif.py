"""The SARIF 2.1.0 rendering, for GitHub code scanning and other SARIF viewers.

One run; the tool's rules are R1-R3 and R5; one result per finding (per cause,
not per route) at the subject's ``file:line``, the other party as a related
location when it is in a source file, and the finding's fingerprint in
``partialFingerprints`` so alerts keep their identity across commits.  The
body analysis's coverage is a notification of the invocation (a warning when
it is incomplete) and ``runs[0].properties.coverage``.  When the app cannot be
audited the run has no results and an unsuccessful invocation that says why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._common.sites import Site
from .._common.violations import DOCS_ROOT, Rule
from .findings import FINGERPRINT_KEY, SHOWN_ROUTES, Finding, group_findings, summarize
from .report import AppReport

__all__ = ["SARIF_SCHEMA", "render_sarif", "sarif_document", "sarif_error"]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = DOCS_ROOT.rsplit("/rules", 1)[0] + "/cli/"

_DESCRIPTIONS = {
    Rule.R1: (
        "A layer's mode (sync or async) is declared, by its base class or @layer('sync') / "
        "@layer('async'), never guessed; a class has exactly one mode."
    ),
    Rule.R2: (
        "Every public callable of a layer has the layer's mode (a plain def in a sync layer, "
        "an async def in an async layer), and an endpoint has the mode of its declared router."
    ),
    Rule.R3: (
        "Layers, endpoints and dependencies depend only on layers and drivers of their own "
        "mode; async code reaches sync code only through one explicit offload."
    ),
    Rule.R5: (
        "Nothing the app runs on the event loop (async endpoints and dependencies, middleware, "
        "lifespan, handlers, background tasks) makes a blocking call, directly or through the "
        "app's own sync helpers; blocking work is offloaded or runs in a def."
    ),
}


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.code,
            "name": rule.slug,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": _DESCRIPTIONS[rule]},
            "helpUri": rule.docs_url,
            "help": {"text": f"{_DESCRIPTIONS[rule]} See {rule.docs_url}"},
            "defaultConfiguration": {"level": "error"},
        }
        for rule in Rule
    ]


def _driver() -> dict[str, Any]:
    from ..__about__ import __version__

    return {
        "name": "fastapi-boundary",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": _rules(),
    }


def _is_source_file(site: Site) -> bool:
    """A file of code, not a module name (a library driver's site) or ``<unknown>``."""
    if not site.known:
        return False
    return site.file.endswith((".py", ".pyw", ".pyi")) or "/" in site.file or os.sep in site.file


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(file.replace(os.sep, "/"))


def _location(site: Site) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(site.file)}}
    if site.line > 0:
        physical["region"] = {"startLine": site.line}
    return {"physicalLocation": physical}


def _message(finding: Finding, verbose: bool) -> str:
    lines = [f"{finding.rule.code} {finding.rule.slug}: {finding.summary}"]
    if len(finding.chain) > 1:
        lines.append(f"chain: {' -> '.join(finding.chain)}")
    lines.append(f"fix: {finding.fix}")
    if finding.routes:
        shown = finding.routes_text(None if verbose else SHOWN_ROUTES)
        lines.append(f"routes ({len(finding.routes):,}): {shown}")
    return "\n".join(lines)


def _result(finding: Finding, verbose: bool) -> dict[str, Any]:
    rule_index = list(Rule).index(finding.rule)
    result: dict[str, Any] = {
        "ruleId": finding.rule.code,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": _message(finding, verbose)},
        "locations": [_location(finding.site)] if _is_source_file(finding.site) else [],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "subject": finding.subject.to_dict(),
            "other": finding.other.to_dict() if finding.other else None,
            "chain": list(finding.chain),
            "routeCount": len(finding.routes),
            "routes": list(finding.routes),
        },
    }
    other = finding.other
    if other is not None and _is_source_file(other.site):
        related = _location(other.site)
        related["id"] = 1
        related["message"] = {"text": other.describe()}
        result["relatedLocations"] = [related]
    return result


def _run(results: list[dict[str, Any]], invocation: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": {"driver": _driver()},
        "invocations": [invocation],
        "results": results,
    }


def sarif_document(
    report: AppReport, *, verbose: bool = False, findings: list[Finding] | None = None
) -> dict[str, Any]:
    """The SARIF log of an audit: one result per finding."""
    if findings is None:
        findings = group_findings(report)
    summary = summarize(report, findings)
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "exitCode": 1 if findings else 0,
        "toolExecutionNotifications": [
            {"level": "note", "message": {"text": summary.text()}},
            *({"level": "note", "message": {"text": note}} for note in report.notes),
            *(
                {"level": "note", "message": {"text": f"{mount.path}: {mount.note}"}}
                for mount in report.mounts
            ),
        ],
    }
    coverage = report.coverage
    if coverage is not None:
        text = "\n".join(coverage.lines(None if verbose else SHOWN_ROUTES))
        level = "note" if coverage.complete else "warning"
        invocation["toolExecutionNotifications"].append({"level": level, "message": {"text": text}})
    run = _run([_result(finding, verbose) for finding in findings], invocation)
    run["properties"] = {"summary": summary.to_dict()}
    if coverage is not None:
        run["properties"]["coverage"] = coverage.to_dict()
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def sarif_error(message: str, site: Site | None = None, exit_code: int = 2) -> dict[str, Any]:
    """The SARIF log when the audit could not run: no results, the reason as a notification."""
    notification: dict[str, Any] = {"level": "error", "message": {"text": message}}
    if site is not None and _is_source_file(site):
        notification["locations"] = [_location(site)]
    invocation = {
        "executionSuccessful": False,
        "exitCode": exit_code,
        "toolExecutionNotifications": [notification],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run([], invocation)]}


def render_sarif(
    report: AppReport, *, verbose: bool = False, findings: list[Finding] | None = None
) -> str:
    return json.dumps(sarif_document(report, verbose=verbose, findings=findings), indent=2)
