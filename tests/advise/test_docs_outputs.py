"""The outputs ``docs/advise.md`` shows are what ``advise`` prints today.

The page includes the files of ``tests/advise/outputs/``; each test runs the command and
compares.  ``FASTAPI_BOUNDARY_UPDATE_OUTPUTS=1`` rewrites them instead (then review the diff).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastapi_boundary.cli import main
from tests.advise.generated import write_app
from tests.helpers import NEEDS_DEPENDS_SCOPE, ROOT

OUTPUTS = Path(__file__).parent / "outputs"
UPDATE = os.environ.get("FASTAPI_BOUNDARY_UPDATE_OUTPUTS") == "1"


def compare(name: str, text: str) -> None:
    path = OUTPUTS / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} is stale: rerun with UPDATE"


def advise(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["advise", *argv]) == 0
    return capsys.readouterr().out


@NEEDS_DEPENDS_SCOPE
@pytest.mark.parametrize("shop", ["sync_bookshop", "async_bookshop"])
def test_the_bundled_examples(
    shop: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    compare(f"{shop}.txt", advise(capsys, f"examples.{shop}.main:app"))


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The generated app as package ``shop``, the current folder its parent (paths as shown)."""
    for name in [name for name in sys.modules if name.partition(".")[0] == "shop"]:
        del sys.modules[name]
    write_app(tmp_path, "shop")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for name in [name for name in sys.modules if name.partition(".")[0] == "shop"]:
        del sys.modules[name]


def test_the_generated_app(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compare("generated.txt", advise(capsys, "shop.main:app"))
    plan = advise(capsys, "shop.main:app", "--to", "async", "shop.routers:classic")
    compare("generated_plan.txt", plan)
    plan_json = advise(
        capsys, "shop.main:app", "--to", "async", "shop.routers:classic", "--format", "json"
    )
    compare("generated_plan.json", plan_json)
