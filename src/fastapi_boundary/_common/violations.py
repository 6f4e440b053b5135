"""The one report type shared by import-time errors, ``check_app`` and the CLI.

A `Violation` names the rule, the two parties with their modes and
definition sites, the chain that links them, and the fix.  Every message
the library prints is rendered from one, so the import-time error, the
audit table and a CI annotation always say the same thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .modes import Mode
from .sites import Site

__all__ = ["DOCS_ROOT", "Party", "Rule", "Violation"]

DOCS_ROOT = "https://fastapi-boundary.readthedocs.io/en/latest/rules"


class Rule(enum.Enum):
    """The boundary rules checked so far (R1-R3 and R5 of the design brief's R1-R6)."""

    R1 = ("R1", "declared-mode", "Mode is declared, never guessed")
    R2 = ("R2", "callable-mode", "A layer's public callables match its mode")
    R3 = ("R3", "same-mode-dependencies", "Layers depend only on layers of the same mode")
    R5 = ("R5", "no-blocking-on-the-loop", "Blocking work never runs on the event loop thread")

    def __init__(self, code: str, slug: str, title: str) -> None:
        self.code = code
        self.slug = slug
        self.title = title

    @property
    def docs_url(self) -> str:
        return f"{DOCS_ROOT}/{self.code.lower()}-{self.slug}/"


@dataclass(frozen=True)
class Party:
    """One side of a violation: what it is, its mode and where it is defined."""

    role: str  # "sync service", "endpoint", "dependency", ...
    name: str
    mode: Mode | None
    site: Site

    def describe(self) -> str:
        return f"{self.role} {self.name} ({self.site})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "mode": self.mode.value if self.mode else None,
            "file": self.site.file,
            "line": self.site.line,
        }


@dataclass(frozen=True)
class Violation:
    """A broken rule, with everything needed to find and fix it.

    A violation found in a route's dependency tree names the route: ``route``
    is its label, ``summary`` says "of route ..." and ``chain`` starts at the
    route.  ``cause_summary`` and ``cause_chain`` say the same without the
    route (the chain from the subject on), so that one cause reached by many
    routes reads the same for each of them; for other violations they equal
    ``summary`` and ``chain``.
    """

    rule: Rule
    summary: str
    subject: Party
    other: Party | None
    fix: str
    chain: tuple[str, ...] = field(default=())
    route: str | None = None
    cause_summary: str = ""
    cause_chain: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.cause_summary:
            object.__setattr__(self, "cause_summary", self.summary)
        if not self.cause_chain:
            object.__setattr__(self, "cause_chain", self.chain)

    @property
    def site(self) -> Site:
        """Where to annotate: the subject's definition."""
        return self.subject.site

    @property
    def message(self) -> str:
        lines = [f"{self.rule.code} {self.rule.slug}: {self.summary}"]
        if len(self.chain) > 1:
            lines.append(f"  chain: {' -> '.join(self.chain)}")
        lines.append(f"  fix: {self.fix}")
        lines.append(f"  docs: {self.rule.docs_url}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.code,
            "slug": self.rule.slug,
            "summary": self.summary,
            "subject": self.subject.to_dict(),
            "other": self.other.to_dict() if self.other else None,
            "chain": list(self.chain),
            "fix": self.fix,
            "docs": self.rule.docs_url,
        }
