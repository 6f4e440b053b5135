"""The CLI: exit statuses, formats, import errors, output streams."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastapi_boundary.cli import load_app, main
from tests.helpers import run_python

CLEAN = """
from typing import Annotated
from fastapi import Depends, FastAPI
from fastapi_boundary import SyncRepository, SyncRouter

class Repo(SyncRepository):
    def get(self) -> int:
        return 1

router = SyncRouter()

@router.get("/items")
def items(repo: Annotated[Repo, Depends()]) -> int:
    return repo.get()

app = FastAPI()
app.include_router(router)

def make_app() -> FastAPI:
    return app
"""

AUDIT_ONLY = """
from typing import Annotated
from fastapi import Depends, FastAPI
from fastapi_boundary import SyncService

class Service(SyncService):
    def get(self) -> int:
        return 1

app = FastAPI()

@app.get("/items")
async def items(service: Annotated[Service, Depends()]) -> int:
    return 1
"""

IMPORT_TIME = """
from fastapi import FastAPI
from fastapi_boundary import SyncRepository

class Repo(SyncRepository):
    async def get(self) -> int:
        return 1

app = FastAPI()
"""

CRASHING = """
import definitely_not_installed_module_xyz
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Iterator[Path]:
    for name, source in {
        "clean_app": CLEAN,
        "audit_app": AUDIT_ONLY,
        "import_time_app": IMPORT_TIME,
        "crashing_app": CRASHING,
    }.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    yield tmp_path
    for name in ("clean_app", "audit_app", "import_time_app", "crashing_app"):
        sys.modules.pop(name, None)


def run(app_dir: Path, *args: str) -> int:
    return main(["check", *args, "--app-dir", str(app_dir)])


def test_clean_app_exits_zero_with_table(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "clean_app:app") == 0
    out, err = capsys.readouterr()
    assert "GET /items  sync (declared)  hops=3  ok" in out
    assert out.rstrip().endswith("no findings in 1 route")
    assert "loading clean_app:app" in err and "loading" not in out


def test_violations_exit_one(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "audit_app:app") == 1
    out, _ = capsys.readouterr()
    assert "R3 same-mode-dependencies: async endpoint items" in out
    assert out.startswith("1 finding affecting 1 of 1 route\n")


def test_json_format(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "audit_app:app", "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["routes"][0]["label"] == "GET /items"
    assert data["findings"][0]["subject"]["name"] == "items"


def test_github_format(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "audit_app:app", "--format", "github") == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("::error file=")
    assert "audit_app.py,line=" in first


def test_import_time_error_is_a_violation_in_the_chosen_format(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "import_time_app:app", "--format", "json") == 1
    out, err = capsys.readouterr()
    assert "raised ModeMismatchError" in err
    data = json.loads(out)
    assert data["import_failed"] is True
    assert data["summary"]["text"].startswith("1 finding raised while the app was imported")
    assert data["findings"][0]["rule"] == "R2"
    assert data["findings"][0]["subject"]["name"] == "Repo.get"


def test_factory(app_dir: Path) -> None:
    assert run(app_dir, "clean_app:make_app", "--factory") == 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("no_such_module:app", "could not import module 'no_such_module'"),
        ("clean_app:missing", "has no attribute 'missing'"),
        ("clean_app", "must be given as 'module:attribute'"),
        ("crashing_app:app", "raised ModuleNotFoundError"),
        ("clean_app:make_app", "pass --factory"),
    ],
)
def test_load_errors_exit_two_with_the_reason(
    app_dir: Path, capsys: pytest.CaptureFixture[str], target: str, expected: str
) -> None:
    assert run(app_dir, target) == 2
    out, err = capsys.readouterr()
    assert expected in err
    assert out == ""
    assert "Traceback" not in err


def test_load_app_finds_the_crashing_line(app_dir: Path) -> None:
    from fastapi_boundary import AppLoadError

    with pytest.raises(AppLoadError, match=r"crashing_app\.py:2"):
        load_app("crashing_app:app", app_dir=str(app_dir))


@pytest.mark.slow
def test_python_dash_m_and_console_script(app_dir: Path) -> None:
    result = run_python(
        "-m", "fastapi_boundary", "check", "audit_app:app", "--format", "json", cwd=app_dir
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["ok"] is False
    usage = run_python("-m", "fastapi_boundary")
    assert usage.returncode == 2
    assert "usage: fastapi-boundary" in usage.stderr
