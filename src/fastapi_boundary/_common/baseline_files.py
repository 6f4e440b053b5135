"""Baseline files: known findings a team accepts for now, in JSON a human can read and review.

Two lines of defence keep one: the guard (blocking work seen by tests,
``_runtime/exemptions``, rows under ``"exemptions"``) and the structural audit
(``_audit/baseline``, rows under ``"findings"``).  Both files share this shape
and these rules: a missing file is an empty baseline, a broken one says how to
rewrite it, rows are written sorted so that a diff shows what changed, and an
entry that matches nothing is *stale* and fails the run until it is removed, so
a baseline only ever shrinks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import BoundaryError
from .sites import relative_path

__all__ = ["BASELINE_VERSION", "label", "read_rows", "write_rows"]

BASELINE_VERSION = 1


def label(path: str | Path) -> str:
    """``baseline boundary-baseline.json``: how messages name a baseline file."""
    return f"baseline {relative_path(str(path))}"


def read_rows(path: str | Path, key: str, fix: str) -> list[Mapping[str, Any]]:
    """The rows under ``key`` of a baseline file; ``[]`` when the file does not exist.

    A file that is not JSON, or has no list under ``key``, raises
    `BoundaryError` naming the file and ``fix`` (how to rewrite it).
    """
    file = Path(path)
    if not file.exists():
        return []
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _broken(file, str(error), fix) from error
    rows = data.get(key) if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        problem = f"no list of entries under {key!r}"
        if isinstance(data, dict) and key not in data:
            other = next((whose for name, whose in _OWNERS.items() if name in data), None)
            if other is not None:
                problem += f"; it is {other} baseline"
        raise _broken(file, problem, fix)
    return rows


_OWNERS = {"exemptions": "the guard's", "findings": "the audit's"}


def _broken(file: Path, problem: str, fix: str) -> BoundaryError:
    return BoundaryError(
        f"baseline {file} is not a fastapi-boundary baseline ({problem}). Fix: {fix}"
    )


def write_rows(path: str | Path, key: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write ``rows`` under ``key``, with the format's version, indented, ending in a newline."""
    document = {"version": BASELINE_VERSION, key: list(rows)}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
