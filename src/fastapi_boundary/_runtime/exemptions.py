"""Exemptions and the baseline file: known blocking work that is allowed, for a reason.

An exemption names *what* is allowed — the qualified name of the blocking
callable, a layer (``ItemRepository`` or ``ItemRepository.get``), or both —
never a file path, so it survives refactors and Python upgrades.  Each
carries a reason.  An exemption that never fires during a run is *stale*:
the run fails, so a baseline only ever shrinks.

The baseline file is JSON a human can read and edit::

    {
      "version": 1,
      "exemptions": [
        {"name": "time.sleep", "layer": "LegacyRepository.get",
         "reason": "baseline: GET /items/{item_id} at app/repos.py:12"}
      ]
    }
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .._common import baseline_files
from .._common.baseline_files import BASELINE_VERSION, label
from .._common.errors import BoundaryError
from .detection import Detection

__all__ = [
    "BASELINE_VERSION",
    "Exemption",
    "Exemptions",
    "load_baseline",
    "parse_exemptions",
    "write_baseline",
]


@dataclass(frozen=True)
class Exemption:
    """Allow blocking work named ``name`` (a callable or a layer), optionally only in ``layer``."""

    name: str
    reason: str
    layer: str | None = None
    source: str = "configuration"
    function: str | None = None

    def matches(self, detection: Detection) -> bool:
        """``name@X`` allows ``name`` in layer ``X`` or in the async function ``X``; a
        baseline entry that records its function allows the call there only."""
        if self.layer is not None and not (
            _in_layer(self.layer, detection.layer) or _is_function(self.layer, detection.function)
        ):
            return False
        if self.function is not None and self.function != detection.function:
            return False
        return self.name == detection.blocking or _in_layer(self.name, detection.layer)

    def __str__(self) -> str:
        where = f" in {self.layer}" if self.layer else ""
        where += f" from {self.function}" if self.function else ""
        return f"{self.name}{where} ({self.source}: {self.reason})"


def _in_layer(name: str, layer: str | None) -> bool:
    """``ItemRepository`` covers ``ItemRepository.get``; ``ItemRepository.get`` only itself."""
    return layer is not None and (layer == name or layer.startswith(name + "."))


def _is_function(name: str, function: str | None) -> bool:
    """``list_items`` or ``app.routes.list_items`` names the function ``app.routes.list_items``."""
    return function is not None and (function == name or function.endswith("." + name))


class Exemptions:
    """A set of exemptions that counts which ones fired (the stale report)."""

    def __init__(self, exemptions: Iterable[Exemption] = ()) -> None:
        self.items: list[Exemption] = list(exemptions)
        self.fired: Counter[Exemption] = Counter()

    def __call__(self, detection: Detection) -> str | None:
        """The reason ``detection`` is allowed, or ``None``."""
        for exemption in self.items:
            if exemption.matches(detection):
                self.fired[exemption] += 1
                return exemption.reason
        return None

    def stale(self) -> list[Exemption]:
        """Exemptions that never fired since they were loaded."""
        return [item for item in self.items if not self.fired[item]]

    def __len__(self) -> int:
        return len(self.items)


def parse_exemptions(
    spec: Mapping[str, str] | Iterable[str], source: str = "configuration"
) -> list[Exemption]:
    """Exemptions from ``{"name": "reason"}`` or ini lines ``name = reason``.

    ``name`` may be ``callable@Layer.method`` to allow a callable only inside
    one layer.  A missing reason is an error: an exemption must say why.
    """
    pairs: list[tuple[str, str]]
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        pairs = []
        for line in spec:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            name, _, reason = text.partition("=")
            pairs.append((name.strip(), reason.strip()))
    parsed = []
    for name, reason in pairs:
        target, _, layer = name.partition("@")
        if not target or not reason or " " in target:
            raise BoundaryError(
                f"{source}: exemption {name!r} needs a qualified name (or layer) and a "
                f"reason. Fix: write `time.sleep = legacy client, tracked in #123` or "
                f"`sqlite3.connect@LegacyRepository.get = migrating to aiosqlite`."
            )
        parsed.append(Exemption(target, reason, layer or None, source))
    return parsed


def load_baseline(path: str | Path) -> list[Exemption]:
    """Read a baseline file written by `write_baseline` (a missing file is an empty baseline)."""
    fix = "rewrite it with `pytest --boundary=strict --update-baseline`."
    rows = baseline_files.read_rows(path, "exemptions", fix)
    try:
        return [
            Exemption(
                str(row["name"]),
                str(row["reason"]),
                row.get("layer"),
                label(path),
                row.get("function"),
            )
            for row in rows
        ]
    except KeyError as error:
        raise BoundaryError(
            f"baseline {path} is not a fastapi-boundary baseline (an entry has no {error}). "
            f"Fix: {fix}"
        ) from error


def write_baseline(path: str | Path, detections: Iterable[Detection]) -> list[Exemption]:
    """Write one exemption per (callable, layer, fake-async function) seen, sorted.

    Each records the async function it was seen in, so that the entry never lets a
    different function reach the same call unnoticed; the reason says where it was seen.
    """
    seen: dict[tuple[str, str, str], Detection] = {}
    for detection in detections:
        key = (detection.blocking, detection.layer or "", detection.function or "")
        seen.setdefault(key, detection)
    rows = []
    for (name, layer, function), detection in sorted(seen.items()):
        where = [part for part in (detection.route, detection.site and str(detection.site)) if part]
        reason = "baseline" + (f": {' at '.join(where)}" if where else "")
        row: dict[str, str] = {"name": name, "reason": reason}
        if layer:
            row["layer"] = layer
        if function:
            row["function"] = function
        rows.append(row)
    baseline_files.write_rows(path, "exemptions", rows)
    return [
        Exemption(r["name"], r["reason"], r.get("layer"), label(path), r.get("function"))
        for r in rows
    ]
