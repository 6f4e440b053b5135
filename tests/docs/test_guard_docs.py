"""The generated catalogue page is up to date with the catalogue."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_catalogue_page_is_generated_from_the_catalogue() -> None:
    generator = runpy.run_path(str(ROOT / "scripts" / "gen_catalogue.py"))
    committed = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    assert committed == generator["render"](), (
        "docs/catalogue.md is out of date: run .venv/bin/python scripts/gen_catalogue.py"
    )


def test_the_page_lists_every_entry_and_its_audit_event() -> None:
    from fastapi_boundary._common import catalog as _catalog

    committed = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    for entry in _catalog.CATALOG:
        assert f"| `{entry.name}` |" in committed
    assert "| `time.sleep` | `time.sleep` | stdlib |" in committed
