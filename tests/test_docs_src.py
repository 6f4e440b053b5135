"""The documentation's examples (docs_src/) run, and say what the pages say they say.

Every ``*_right.py`` imports cleanly (and any app it builds passes ``check_app``);
every ``*_wrong.py`` raises the documented error.  The error messages and CLI
outputs shown in the docs are kept next to the examples as ``.txt`` files and
compared exactly; after a deliberate change of wording, refresh them with
``DOCS_SRC_UPDATE=1 .venv/bin/pytest tests/test_docs_src.py`` and review the diff.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    BoundaryError,
    LayerDeclarationError,
    LayerDependencyError,
    ModeMismatchError,
    RouteModeError,
    check_app,
    configure,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS_SRC = ROOT / "docs_src"
UPDATE = os.environ.get("DOCS_SRC_UPDATE") == "1"

if str(ROOT) not in sys.path:  # docs_src is a top-level package of the repository
    sys.path.insert(0, str(ROOT))

# module -> (error type, rule code, start of the fix the message must give)
WRONG: dict[str, tuple[type[BoundaryError], str, str]] = {
    "docs_src.rules.r1_wrong": (
        LayerDeclarationError,
        "R1",
        "a layer has exactly one mode: inherit from SyncService or from AsyncService",
    ),
    "docs_src.rules.r2_wrong": (ModeMismatchError, "R2", "make get a plain def"),
    "docs_src.rules.r2_router_wrong": (RouteModeError, "R2", "make read_user a plain def"),
    "docs_src.rules.r2_function_wrong": (
        ModeMismatchError,
        "R2",
        "make get_session an async def, or declare it @layer('sync')",
    ),
    "docs_src.rules.r3_wrong": (
        LayerDependencyError,
        "R3",
        "give UserService an async repository",
    ),
    "docs_src.rules.r3_route_wrong": (
        RouteModeError,
        "R3",
        "read_user cannot await UserRepository",
    ),
    "docs_src.rules.r3_driver_wrong": (
        LayerDependencyError,
        "R3",
        "Connection is a sync sqlite3 Connection; its async counterpart is aiosqlite.Connection",
    ),
    "docs_src.rules.r3_forward_wrong": (
        LayerDependencyError,
        "R3",
        "a sync service cannot await: give OrderService a sync repository",
    ),
}

# (arguments after `fastapi-boundary check`, expected exit status, stream shown, file)
CLI_RUNS: list[tuple[list[str], int, str, str]] = [
    (["docs_src.quickstart.main:app"], 0, "stdout", "quickstart/check.txt"),
    (["docs_src.cli.app:app"], 0, "stdout", "cli/app_table.txt"),
    (["docs_src.cli.mixed:app"], 1, "stdout", "cli/mixed_table.txt"),
    (["docs_src.cli.mixed:app", "--format", "json"], 1, "stdout", "cli/mixed_json.txt"),
    (["docs_src.cli.mixed:app", "--format", "github"], 1, "stdout", "cli/mixed_github.txt"),
    (["docs_src.rules.r2_wrong:app"], 1, "stdout", "cli/import_error.txt"),
    (["docs_src.rules.r2_wrong:app"], 1, "stderr", "cli/import_error_stderr.txt"),
    (["docs_src.rules.r2_wrong:app", "--format", "json"], 1, "stdout", "cli/import_error_json.txt"),
    (["docs_src.cli.app:application"], 2, "stderr", "cli/load_error.txt"),
    (["docs_src.rules.r3_deferred.main:app"], 1, "stdout", "rules/r3_deferred/check.txt"),
]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


RIGHT_MODULES = sorted(_module_name(p) for p in DOCS_SRC.rglob("*_right.py"))
WRONG_MODULES = sorted(_module_name(p) for p in DOCS_SRC.rglob("*_wrong.py"))


def _forget_docs_src() -> None:
    for name in [n for n in sys.modules if n == "docs_src" or n.startswith("docs_src.")]:
        del sys.modules[name]
    gc.collect()


@pytest.fixture(autouse=True)
def _docs_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from the repository root (messages show paths relative to it), in strict mode."""
    monkeypatch.chdir(ROOT)
    previous = configure("strict")
    _forget_docs_src()
    try:
        yield
    finally:
        configure(previous)
        _forget_docs_src()


def _fresh_import(name: str) -> ModuleType:
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def _compare(relative: str, actual: str) -> None:
    """Compare with the text the docs include; rewrite it when DOCS_SRC_UPDATE=1."""
    path = DOCS_SRC / relative
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.read_text(encoding="utf-8") == actual


def test_every_wrong_example_is_listed() -> None:
    assert sorted(WRONG) == WRONG_MODULES


@pytest.mark.parametrize("name", RIGHT_MODULES)
def test_right_example_imports_cleanly(name: str) -> None:
    module = _fresh_import(name)
    apps = [value for value in vars(module).values() if isinstance(value, FastAPI)]
    for app in apps:
        report = check_app(app)
        assert report.ok, report.violations
        assert report.routes


@pytest.mark.parametrize("name", WRONG_MODULES)
def test_wrong_example_raises_the_documented_error(name: str) -> None:
    error_type, code, fix = WRONG[name]
    with pytest.raises(BoundaryError) as caught:
        _fresh_import(name)
    error = caught.value
    assert type(error) is error_type
    message = str(error)
    assert message.startswith(f"{code} ")
    assert f"\n  fix: {fix}" in message
    assert f"\n  docs: https://fastapi-boundary.readthedocs.io/en/latest/rules/{code.lower()}-" in (
        message
    )
    assert [violation.rule.code for violation in error.violations] == [code]
    assert name not in sys.modules  # the failed import left nothing behind
    shown = f"{type(error).__module__}.{type(error).__qualname__}: {message}\n"
    _compare(name.removeprefix("docs_src.").replace(".", "/") + ".txt", shown)


def test_layer_without_mode_is_refused() -> None:
    with pytest.raises(LayerDeclarationError) as caught:
        _fresh_import("docs_src.rules.r1_layer_no_mode")
    message = str(caught.value)
    assert "needs a mode: a class's mode is declared, never guessed" in message
    assert message.startswith("R1 declared-mode: @layer on class")
    assert "fix: write @layer('sync') or @layer('async')" in message
    shown = f"{type(caught.value).__module__}.{type(caught.value).__qualname__}: {message}\n"
    _compare("rules/r1_layer_no_mode.txt", shown)


def test_quickstart_app_starts_and_serves() -> None:
    main = _fresh_import("docs_src.quickstart.main")
    assert check_app(main.app).ok
    with TestClient(main.app) as client:  # install(app) audits the app at start-up
        response = client.get("/users/1")
    assert response.status_code == 200
    assert response.json() == {"name": "Ada"}


def _run(*args: str, mode: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FASTAPI_BOUNDARY_MODE"}
    if mode is not None:
        env["FASTAPI_BOUNDARY_MODE"] = mode
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "status", "stream", "relative"),
    CLI_RUNS,
    ids=[relative for *_, relative in CLI_RUNS],
)
def test_cli_output_shown_in_the_docs(
    args: list[str], status: int, stream: str, relative: str
) -> None:
    result = _run("-m", "fastapi_boundary", "check", *args)
    assert result.returncode == status, result.stderr
    output = result.stdout if stream == "stdout" else result.stderr
    if "--format" in args and "json" in args:
        report = json.loads(output)
        assert report["ok"] is False
        assert report["import_failed"] is (relative == "cli/import_error_json.txt")
    _compare(relative, output)


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_check_app_reports_layers_whatever_the_import_time_mode(mode: str) -> None:
    """In warn and off mode the app imports, and the audit still reports its layers."""
    result = _run("-m", "fastapi_boundary", "check", "docs_src.configuration.app:app", mode=mode)
    assert result.returncode == 1, result.stderr
    _compare("configuration/check.txt", result.stdout)
    assert "ArchiveService" not in result.stdout  # no route reaches it
    warned = [line for line in result.stderr.splitlines() if "BoundaryWarning" in line]
    if mode == "off":
        assert warned == []
    else:  # each warning points at the class statement of the layer at fault
        source = ROOT / "docs_src" / "configuration" / "app.py"
        assert warned == [
            f"{source}:13: BoundaryWarning: R2 callable-mode: OrderService.total "
            f"(docs_src/configuration/app.py:17) is an async def but OrderService "
            f"(docs_src/configuration/app.py:13) is a sync service",
            f"{source}:22: BoundaryWarning: R2 callable-mode: ArchiveService.purge "
            f"(docs_src/configuration/app.py:23) is an async def but ArchiveService "
            f"(docs_src/configuration/app.py:22) is a sync service",
        ]


def test_violation_fields_example() -> None:
    result = _run("-m", "docs_src.errors.violation_fields")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True True\nR3 same-mode-dependencies ")
    _compare("errors/violation_fields.txt", result.stdout)


def test_deferred_reference_stops_start_up() -> None:
    script = (
        "from fastapi.testclient import TestClient\n"
        "from fastapi_boundary import BoundaryViolationsError\n"
        "from docs_src.rules.r3_deferred.main import app\n"
        "try:\n"
        "    with TestClient(app):\n"
        "        print('started')\n"
        "except BoundaryViolationsError as error:\n"
        "    print(type(error).__name__, [v.rule.code for v in error.violations])\n"
        "    print(str(error).splitlines()[0])\n"
    )
    result = _run("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "BoundaryViolationsError ['R3']\n"
        "FastAPI app 'FastAPI' has boundary violations; refusing to start:\n"
    )
