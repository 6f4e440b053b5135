"""docs/adopting.md: every command of the page, run in order in a copy of ``docs_src/adopting``.

The page walks an existing app (``docs_src/adopting/shop``, which has never
heard of the library) through the adoption: the first audit, a baseline,
fixing a cause, layers declared in ``pyproject.toml``, a suppression, the
guard in tests, the monitor, the mypy plugin.  Each step's table is built
from the ``pyproject_*.toml`` fragments the page shows, and each output the
page shows is kept as a file next to the example and compared exactly (the
copy's folder replaced by nothing).  After a deliberate change of wording,
refresh them with ``DOCS_SRC_UPDATE=1 .venv/bin/pytest tests/docs/test_adopting.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_python

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # subprocesses, pytest and mypy

SOURCE = ROOT / "docs_src" / "adopting"
UPDATE = os.environ.get("DOCS_SRC_UPDATE") == "1"
ENV: dict[str, str | None] = {
    "FASTAPI_BOUNDARY_MODE": None,  # as in production: no mode chosen
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTEST_ADDOPTS": None,
    "COLUMNS": "80",
}


def compare(name: str, actual: str) -> None:
    """Compare with the file the page includes; rewrite it when DOCS_SRC_UPDATE=1."""
    path = SOURCE / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.read_text(encoding="utf-8") == actual, name


class Project:
    """The copy of the example, where the page's commands run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def table(self, *fragments: str) -> None:
        """``pyproject.toml`` made of the page's fragments, in order."""
        texts = [(SOURCE / f"pyproject_{name}.toml").read_text() for name in fragments]
        (self.folder / "pyproject.toml").write_text("\n".join(texts))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_python(*args, cwd=self.folder, env=ENV, timeout=300)
        prefix = f"{self.folder}{os.sep}"
        result.stdout = result.stdout.replace(prefix, "")
        result.stderr = result.stderr.replace(prefix, "")
        return result

    def check(self, *args: str, status: int) -> subprocess.CompletedProcess[str]:
        result = self.run("-m", "fastapi_boundary", "check", *args)
        assert result.returncode == status, result.stdout + result.stderr
        return result

    def guard_section(self, *args: str) -> str:
        """What the pytest plugin printed, from its section's header to the run's last line."""
        result = self.run("-m", "pytest", "-p", "no:cacheprovider", "-q", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if "fastapi-boundary guard" in line)
        return "\n".join(lines[start:-1]) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    folder = tmp_path / "shop-project"
    shutil.copytree(
        SOURCE,
        folder,
        ignore=shutil.ignore_patterns("*.txt", "*.toml", "*.json", "__pycache__", "*.csv"),
    )
    return Project(folder)


def test_the_walkthrough(project: Project) -> None:
    # 1. before anything is configured, the monitor starts the app and warns
    started = project.run("start.py")
    assert started.returncode == 0, started.stderr
    compare("start_first.txt", started.stdout)

    # 2. the first audit: no configuration, the drivers are known
    compare("check_first.txt", project.check("shop.main:app", status=1).stdout)

    # 3. a baseline: known findings pass
    project.table("baseline")
    compare("update_baseline.txt", project.check("--update-baseline", status=0).stderr)
    written = (project.folder / "boundary-baseline.json").read_text()
    assert len(json.loads(written)["findings"]) == 6  # 2 R3 (the drivers), 4 R5 (the calls)
    compare("boundary-baseline.json", written)
    compare("check_baseline.txt", project.check(status=0).stdout)

    # 4. fix the worst cause: its entry is stale until the baseline is updated
    main = project.folder / "shop" / "main.py"
    fixed = main.read_text().replace("async def count_orders(", "def count_orders(")
    assert fixed != main.read_text()
    main.write_text(fixed)
    compare("check_stale.txt", project.check(status=1).stdout)
    compare("update_fixed.txt", project.check("--update-baseline", status=0).stderr)
    project.check(status=0)

    # 5. layers declared in pyproject.toml, then a suppression for the one cause left
    project.table("baseline", "layers")
    compare("check_layers.txt", project.check(status=1).stdout)
    project.table("baseline", "layers", "suppress")
    compare("check_suppressed.txt", project.check(status=0).stdout)

    # 6. the guard in tests: a baseline of what the tests block on, then strict
    project.table("baseline", "layers", "suppress", "guard")
    compare("guard_update.txt", project.guard_section("--update-baseline"))
    compare("guard-baseline.json", (project.folder / "guard-baseline.json").read_text())
    compare("guard_strict.txt", project.guard_section())

    # 7. the monitor in production: the app is clean against its baseline
    started = project.run("start.py")
    assert started.returncode == 0, started.stderr
    compare("start.txt", started.stdout)

    # 8. the mypy plugin in CI reads the same layers
    project.table("baseline", "layers", "suppress", "guard", "mypy")
    typed = project.run("-m", "mypy", "shop")
    assert typed.returncode == 1, typed.stdout + typed.stderr
    compare("mypy.txt", typed.stdout)


def test_the_fragments_make_one_valid_table(tmp_path: Path) -> None:
    """The page ends with the whole file: the fragments, together, are one valid table."""
    from fastapi_boundary import load_config

    path = tmp_path / "pyproject.toml"
    names = ("baseline", "layers", "suppress", "guard", "mypy")
    path.write_text("\n".join((SOURCE / f"pyproject_{name}.toml").read_text() for name in names))
    config = load_config(path)
    assert config.app == "shop.main:app"
    assert [rule.pattern for rule in config.layers] == ["shop.repositories.*", "shop.services.*"]
    assert config.guard.mode == "strict"
