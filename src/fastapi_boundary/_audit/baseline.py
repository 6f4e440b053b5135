"""The audit's baseline: the findings an app had when it adopted the library.

``fastapi-boundary check --update-baseline`` writes the current findings,
each keyed by its fingerprint (`Finding.fingerprint`: the rule, the parties
and the chain, no line numbers, so it survives unrelated edits).  With the
baseline, a known finding passes, a new one fails, and an entry whose
finding is gone (fixed, or suppressed meanwhile) is *stale* and fails until
it is removed: the baseline only ever shrinks.  The file is the same shape
as the guard's (`_common/baseline_files`)::

    {
      "version": 1,
      "findings": [
        {"fingerprint": "3f9c...", "rule": "R3", "file": "app/reports.py",
         "summary": "async endpoint build_report ... depends on sync repository ..."}
      ]
    }

Only ``fingerprint`` is read; the other fields are for the people reviewing it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .._common import baseline_files
from .._common.errors import BoundaryError
from .findings import Finding

__all__ = ["FIX", "BaselineEntry", "load_baseline", "write_baseline"]

FIX = "rewrite it with `fastapi-boundary check --update-baseline`."


@dataclass(frozen=True)
class BaselineEntry:
    """One known finding: its fingerprint, and what it was, for people."""

    fingerprint: str
    rule: str
    file: str
    summary: str
    source: str = "baseline"

    def describe(self) -> str:
        return f"{self.rule} {self.summary} ({self.file}; {self.source})"

    def to_dict(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "file": self.file,
            "summary": self.summary,
        }


def load_baseline(path: str | Path) -> list[BaselineEntry]:
    """The entries of a baseline file (a missing file is an empty baseline)."""
    label = baseline_files.label(path)
    entries = []
    for row in baseline_files.read_rows(path, "findings", FIX):
        fingerprint = row.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise BoundaryError(
                f"baseline {path} is not a fastapi-boundary baseline (an entry has no "
                f"fingerprint: {dict(row)!r}). Fix: {FIX}"
            )
        entries.append(
            BaselineEntry(
                fingerprint,
                str(row.get("rule", "")),
                str(row.get("file", "")),
                str(row.get("summary", "")),
                label,
            )
        )
    return entries


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> list[BaselineEntry]:
    """Write one entry per finding, sorted by file, rule and summary; return them."""
    label = baseline_files.label(path)
    entries = sorted(
        {
            finding.fingerprint: BaselineEntry(
                finding.fingerprint,
                finding.rule.code,
                finding.site.file.replace("\\", "/"),
                finding.summary,
                label,
            )
            for finding in findings
        }.values(),
        key=lambda entry: (entry.file, entry.rule, entry.summary, entry.fingerprint),
    )
    baseline_files.write_rows(path, "findings", (entry.to_dict() for entry in entries))
    return entries
