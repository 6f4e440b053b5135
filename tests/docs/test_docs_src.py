"""The documentation's examples (docs_src/) run, and say what the pages say they say.

Every ``*_right.py`` imports cleanly (and any app it builds passes ``check_app``);
every ``*_wrong.py`` raises the documented error.  The offloading examples
(``docs_src/offload/``) also run: a right one's async ``main()`` runs with anyio
and prints what the page shows; a wrong one raises its error on import or from
its ``main()``.  The error messages, printed outputs and CLI outputs shown in the
docs are kept next to the examples as ``.txt`` files and compared exactly (with
process ids, addresses and the repository's absolute path replaced by stable
stand-ins); after a deliberate change of wording, refresh them with
``DOCS_SRC_UPDATE=1 .venv/bin/pytest tests/docs/test_docs_src.py`` and review the diff.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    BoundaryError,
    LayerDeclarationError,
    LayerDependencyError,
    LimiterError,
    ModeMismatchError,
    OffloadError,
    ProcessPicklingError,
    ProcessPoolError,
    ProcessTargetError,
    RouteModeError,
    WorkerCrashedError,
    check_app,
    configure,
    default_process_pool,
)
from fastapi_boundary._common.anyio_compat import HAS_ABANDON_ON_CANCEL, HAS_CHECK_CANCELLED
from tests.helpers import ROOT, line_of, run_python

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

# offloading examples: module -> (error type, text its message must contain)
OFFLOAD_WRONG: dict[str, tuple[type[BaseException], str]] = {
    "docs_src.offload.blocking_wrong": (OffloadError, "Fix: an async def is not blocking"),
    "docs_src.offload.cancel_wrong": (TimeoutError, ""),
    "docs_src.offload.choose_wrong": (OffloadError, "Fix: `await fetch_rate(...)` directly"),
    "docs_src.offload.context_wrong": (LookupError, "ContextVar name='tenant'"),
    "docs_src.offload.cpu_wrong": (ProcessTargetError, "a nested function or closure has none"),
    "docs_src.offload.crash_wrong": (WorkerCrashedError, "was killed by SIGKILL"),
    "docs_src.offload.dependency_wrong": (OffloadError, "FastAPI already awaits it"),
    "docs_src.offload.errors_wrong": (ProcessPicklingError, "cannot be sent back"),
    "docs_src.offload.lifecycle_wrong": (ProcessPoolError, "whole number of workers >= 1"),
    "docs_src.offload.limiter_wrong": (LimiterError, "SingletonThreadPool has none"),
    "docs_src.offload.nested_wrong": (TimeoutError, ""),
    "docs_src.offload.pickling_wrong": (ProcessPicklingError, "positional argument 'rows'"),
    "docs_src.offload.proxy_wrong": (OffloadError, "it is async already"),
}

# (arguments after `fastapi-boundary check`, expected exit status, stream shown, file)
CLI_RUNS: list[tuple[list[str], int, str, str]] = [
    (["docs_src.quickstart.main:app"], 0, "stdout", "quickstart/check.txt"),
    (["docs_src.cli.app:app"], 0, "stdout", "cli/app_table.txt"),
    (["docs_src.cli.app:app", "--verbose"], 0, "stdout", "cli/app_verbose.txt"),
    (["docs_src.cli.mixed:app"], 1, "stdout", "cli/mixed_table.txt"),
    (["docs_src.cli.mixed:app", "--format", "json"], 1, "stdout", "cli/mixed_json.txt"),
    (["docs_src.cli.mixed:app", "--format", "github"], 1, "stdout", "cli/mixed_github.txt"),
    (["docs_src.cli.mixed:app", "--format", "sarif"], 1, "stdout", "cli/mixed_sarif.txt"),
    (["docs_src.cli.shared:app"], 1, "stdout", "cli/shared_table.txt"),
    (["docs_src.cli.shared:app", "--quiet"], 1, "stdout", "cli/shared_quiet.txt"),
    (["docs_src.rules.r2_wrong:app"], 1, "stdout", "cli/import_error.txt"),
    (["docs_src.rules.r2_wrong:app"], 1, "stderr", "cli/import_error_stderr.txt"),
    (["docs_src.rules.r2_wrong:app", "--format", "json"], 1, "stdout", "cli/import_error_json.txt"),
    (["docs_src.cli.app:application"], 2, "stderr", "cli/load_error.txt"),
    (["docs_src.cli.app:application", "--format", "json"], 2, "stdout", "cli/load_error_json.txt"),
    (["docs_src.rules.r3_deferred.main:app"], 1, "stdout", "rules/r3_deferred/check.txt"),
    (["docs_src.rules.r5_blocking:app"], 1, "stdout", "rules/r5_blocking.txt"),
    (["docs_src.cli.unresolved:app"], 0, "stdout", "cli/unresolved_table.txt"),
    (["docs_src.cli.unresolved:app", "--format", "json"], 0, "stdout", "cli/unresolved_json.txt"),
]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


RIGHT_MODULES = sorted(_module_name(p) for p in DOCS_SRC.rglob("*_right.py"))
WRONG_MODULES = sorted(_module_name(p) for p in DOCS_SRC.rglob("*_wrong.py"))
OFFLOAD_RIGHT = [name for name in RIGHT_MODULES if name.startswith("docs_src.offload.")]


def _forget_docs_src() -> None:
    """Forget the examples imported so far; collect their objects (weakly cached layers)."""
    forgotten = [n for n in sys.modules if n == "docs_src" or n.startswith("docs_src.")]
    for name in forgotten:
        del sys.modules[name]
    if forgotten:  # a collection costs ~0.2 s in a full session: only when there is garbage
        gc.collect()


@pytest.fixture(scope="module", autouse=True)
def _frozen_heap() -> Iterator[None]:
    """Keep what was alive before these tests out of their collections (each one ~10x faster)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    assert sorted([*WRONG, *OFFLOAD_WRONG]) == WRONG_MODULES


@pytest.mark.parametrize("name", RIGHT_MODULES)
def test_right_example_imports_cleanly(name: str) -> None:
    module = _fresh_import(name)
    apps = [value for value in vars(module).values() if isinstance(value, FastAPI)]
    for app in apps:
        report = check_app(app)
        assert report.ok, report.violations
        assert report.routes


@pytest.mark.parametrize("name", sorted(WRONG))
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
    """``python *args`` from the repository root, in ``mode`` (else the library's default)."""
    return run_python(*args, env={"FASTAPI_BOUNDARY_MODE": mode, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.slow
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
        assert report["ok"] is (status == 0)
        assert report["import_failed"] is (relative == "cli/import_error_json.txt")
    _compare(relative, output)


@pytest.mark.slow
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


@pytest.mark.slow
def test_violation_fields_example() -> None:
    result = _run("-m", "docs_src.errors.violation_fields")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True True\nR3 same-mode-dependencies ")
    _compare("errors/violation_fields.txt", result.stdout)


@pytest.mark.slow
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


# --- the offloading page ------------------------------------------------------------------


def _stable(text: str) -> str:
    """What varies from run to run or machine to machine, replaced by stable stand-ins."""
    text = text.replace(f"{ROOT}{os.sep}", "")
    text = re.sub(r"\b(Worker process|pid) \d+", r"\1 12345", text)
    return re.sub(r" at 0x[0-9a-f]+", " at 0x7f0000000000", text)


def _shown(error: BaseException) -> str:
    """An error as the last line of its traceback shows it."""
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    message = str(error)
    return f"{name}: {message}\n" if message else f"{name}\n"


def _run_main(module: ModuleType) -> None:
    main = getattr(module, "main", None)
    if main is not None:
        assert inspect.iscoroutinefunction(main), f"{module.__name__}.main must be an async def"
        anyio.run(main)


@pytest.fixture
def _default_pool_restored() -> Iterator[None]:
    """Examples use the default process pool: stop its workers and restore its size after."""
    pool = default_process_pool()
    size = pool.size
    try:
        yield
    finally:
        anyio.run(pool.shutdown)
        pool.resize(size)


def _txt(name: str) -> str:
    return name.removeprefix("docs_src.").replace(".", "/") + ".txt"


@pytest.mark.usefixtures("_default_pool_restored")
@pytest.mark.parametrize("name", OFFLOAD_RIGHT)
def test_offload_right_example_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    if name.endswith(".cancel_right") and not HAS_CHECK_CANCELLED:
        pytest.skip("needs anyio >= 4.1: the example calls check_cancelled()")
    module = _fresh_import(name)
    for app in [value for value in vars(module).values() if isinstance(value, FastAPI)]:
        assert check_app(app).ok
    if getattr(module, "main", None) is None:
        return  # nothing to run: importing cleanly is the test
    _run_main(module)
    output = _stable(capsys.readouterr().out)
    if name == "docs_src.offload.errors_right" and sys.version_info < (3, 11):
        # no exception notes: the worker's traceback is the RemoteTraceback cause, framed
        line = line_of(DOCS_SRC / "offload" / "errors_right.py", "raise PriceError(")
        assert f"line {line}, in parse_prices\n    raise PriceError(" in output
        return
    _compare(_txt(name), output)


@pytest.mark.usefixtures("_default_pool_restored")
@pytest.mark.parametrize("name", sorted(OFFLOAD_WRONG))
def test_offload_wrong_example_raises_the_documented_error(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if name.endswith(".nested_wrong") and not HAS_ABANDON_ON_CANCEL:
        pytest.skip("needs anyio >= 4.1: the example passes abandon_on_cancel= to anyio")
    error_type, text = OFFLOAD_WRONG[name]
    with pytest.raises(error_type) as caught:
        _run_main(_fresh_import(name))
    error = caught.value
    assert type(error) is error_type
    assert text in str(error)
    if isinstance(error, BoundaryError):
        assert error.violations == ()  # usage errors and failures, not rule violations
        if not isinstance(error, WorkerCrashedError):  # a crash is not a misuse
            assert "Fix: " in str(error)  # every misuse error says what to do instead
    _compare(_txt(name), _stable(capsys.readouterr().out + _shown(error)))


def test_a_limiter_larger_than_its_pool_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    db = _fresh_import("docs_src.offload.db").db
    with caplog.at_level(logging.WARNING, logger="fastapi_boundary"):
        db.size = 8  # what install(app, limiters={"db": 8}) does at start-up
    (record,) = caplog.records
    _compare("offload/pool_warning.txt", f"{record.levelname}:{record.name}:{record.message}\n")


@pytest.mark.slow
def test_cpu_bound_in_a_script_and_with_python_m() -> None:
    script = _run("docs_src/offload/script.py")
    assert script.returncode == 1
    assert "Traceback" in script.stderr
    _compare("offload/script_main.txt", _stable(script.stderr.splitlines()[-1] + "\n"))
    module = _run("-m", "docs_src.offload.script")
    assert module.returncode == 0, module.stderr
    _compare("offload/script_module.txt", module.stdout)


def test_every_snippet_marker_of_the_docs_names_a_file_that_exists() -> None:
    """A code formatter run over the pages once turned ``--8<-- "file"`` into ``--8 < --"file"``:
    the examples vanished from the pages and ``mkdocs build --strict`` did not notice."""
    pages = sorted((ROOT / "docs").rglob("*.md"))
    broken = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for page in pages
        for number, line in enumerate(page.read_text().splitlines(), start=1)
        if re.search(r"--\s*8\s*<\s*--", line) and not line.lstrip().startswith('--8<-- "')
    ]
    assert not broken, "\n".join(broken)
    markers = [
        found[1]
        for page in pages
        for found in re.finditer(r'^--8<-- "([^"]+)"', page.read_text(), re.MULTILINE)
    ]
    assert len(markers) > 100
    files = [re.sub(r"(:\d+)+$", "", marker) for marker in markers]  # "file:33:47": lines
    assert [file for file in files if not (ROOT / file).is_file()] == []
