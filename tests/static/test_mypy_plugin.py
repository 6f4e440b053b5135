"""The mypy plugin, through real mypy runs (``mypy.api.run``), never mocks.

Each case module in ``tests/static/mypy_cases`` marks its expected errors with
``# E: <code>`` comments; every case is checked in one run, and the runs share
one cache directory, because type-checking code that imports FastAPI is slow.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from mypy import api

from fastapi_boundary import (
    ModeMismatchError,
    OffloadError,
    ProcessTargetError,
    SyncRepository,
    blocking,
    cpu_bound,
    run_blocking,
    to_async,
)
from fastapi_boundary import mypy as boundary_mypy
from tests.helpers import line_of, run_python

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # real mypy runs

CASES = Path(__file__).parent / "mypy_cases"
CONTROLS = Path(__file__).parent / "mypy_controls"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$")
_EXPECTED = re.compile(r"#\s*E:\s*(?P<codes>[\w\- ]+)$")


@dataclass(frozen=True)
class Error:
    file: str
    line: int
    code: str
    message: str


@dataclass
class Run:
    stdout: str
    stderr: str
    status: int
    errors: list[Error]

    def at(self, file: str) -> Counter[tuple[int, str]]:
        return Counter((e.line, e.code) for e in self.errors if e.file == file)

    def codes(self) -> set[str]:
        return {e.code for e in self.errors}


def write_config(root: Path, config: str = "") -> Path:
    """A mypy.ini with the plugin; ``config`` continues the ``[mypy]`` section (may set plugins)."""
    config = textwrap.dedent(config)
    plugins = "" if config.startswith("plugins =") else "plugins = fastapi_boundary.mypy\n"
    config_file = root / "mypy.ini"
    config_file.write_text(
        f"[mypy]\n{plugins}check_untyped_defs = true\nshow_error_codes = true\npretty = false\n"
        + config
    )
    return config_file


def mypy_paths(config_file: Path, paths: list[Path], cache: Path, relative_to: Path) -> Run:
    """Run mypy with the plugin; the errors' paths relative to ``relative_to``."""
    stdout, stderr, status = api.run(
        ["--config-file", str(config_file), "--cache-dir", str(cache), "--no-error-summary"]
        + [str(path) for path in paths]
    )
    errors = []
    for line in stdout.splitlines():
        found = _ERROR.match(line)
        if found:
            file = str(Path(found["file"]).resolve().relative_to(relative_to.resolve()))
            errors.append(Error(file, int(found["line"]), found["code"], found["message"]))
    return Run(stdout, stderr, status, errors)


def run_mypy(root: Path, targets: list[str], cache: Path, config: str | None = None) -> Run:
    """Run mypy on ``targets`` under ``root``, with ``config`` added to the ``[mypy]`` section."""
    config_file = root / "mypy.ini"
    if config is not None or not config_file.exists():
        write_config(root, config or "")
    return mypy_paths(config_file, [root / target for target in targets], cache, root)


def expected_errors(source: str) -> Counter[tuple[int, str]]:
    expected: Counter[tuple[int, str]] = Counter()
    for number, line in enumerate(source.splitlines(), start=1):
        found = _EXPECTED.search(line)
        if found:
            expected.update((number, code) for code in found["codes"].split())
    return expected


CASE_FILES = sorted(p.name for p in CASES.glob("*.py") if p.name != "__init__.py")


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the whole session: FastAPI, SQLAlchemy and the library are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture(scope="session")
def case_run(tmp_path_factory: pytest.TempPathFactory, mypy_cache: Path) -> Run:
    root = tmp_path_factory.mktemp("cases")
    for name in CASE_FILES:
        shutil.copy(CASES / name, root / name)
    return run_mypy(root, CASE_FILES, mypy_cache)


@pytest.mark.parametrize("name", CASE_FILES)
def test_rule_cases_report_exactly_the_marked_errors(case_run: Run, name: str) -> None:
    expected = expected_errors((CASES / name).read_text())
    assert expected, f"{name} marks no error: a case without one proves nothing"
    assert case_run.at(name) == expected, case_run.stdout


def test_every_error_code_is_exercised(case_run: Run) -> None:
    assert set(boundary_mypy.ERROR_CODES) <= case_run.codes()


def _line_of(name: str, snippet: str) -> int:
    return line_of(CASES / name, snippet)


def test_messages_name_the_parties_their_modes_and_the_fix(case_run: Run) -> None:
    messages = {(e.file, e.line): e.message for e in case_run.errors}
    cases = "blocking_calls.py"
    # a method of an async service stays async: no "make it a plain def" there
    assert messages[cases, _line_of(cases, "return self.repo.get(1)")] == (
        '"ItemService.list" (async) calls blocking "ItemRepository.get" of sync repository '
        "ItemRepository; offload it: `await run_blocking(self.repo.get, ...)` or use "
        "`to_async(self.repo)`"
    )
    session = messages[cases, _line_of(cases, "session.commit()")]
    assert session.startswith(
        '"catalogue" (async) calls blocking "sqlalchemy.orm.session.Session.commit" (db)'
    )
    assert "AsyncSession" in session
    assert messages[cases, _line_of(cases, "crunch(1)")].endswith(
        "run it in a worker process: `await run_cpu(crunch, ...)`, or make markers a plain def"
    )
    offloads = "offloads.py"
    assert messages[offloads, _line_of(offloads, "run_cpu(coroutine_function)")] == (
        "run_cpu() was given coroutine_function, which is an async def: a worker process would "
        "only create its coroutine, never run it. Fix: `await coroutine_function(...)` "
        "directly; offload only sync (blocking) code"
    )
    smtp = messages[cases, _line_of(cases, "smtp.sendmail(")]
    assert smtp.startswith('"families" (async) calls blocking "smtplib.SMTP.sendmail" (net)')
    assert "aiosmtplib" in smtp
    sync = "async_from_sync.py"
    assert messages[sync, _line_of(sync, "return self.repo.get()")] == (
        "Reports.total (sync service Reports) calls AsyncRepo.get of an async repository "
        "AsyncRepo without awaiting it: sync code cannot await, so the coroutine never runs. "
        "Fix: depend on a sync repository there, or call it from async code (an async layer, "
        "an async def endpoint) and await it"
    )


def _relative(message: str) -> str:
    """A message with the directories of the case files dropped (mypy ran them by full path)."""
    return re.sub(r"(?<=\()[^ ()]*/(?=[\w.]+\.py:\d+\))", "", message)


def test_a_propagated_blocking_call_shows_the_chain_with_each_site(case_run: Run) -> None:
    messages = {(e.file, e.line): _relative(e.message) for e in case_run.errors}
    app, helpers, deep = "propagation.py", "propagation_helpers.py", "propagation_deep.py"
    at = {
        "call": _line_of(app, 'save_item(session, "book")  # E'),
        "save_item": _line_of(helpers, "write_audit(session, name)"),
        "write_audit": _line_of(deep, "session.commit()"),
    }
    assert messages[app, at["call"]] == (
        '"two_levels_across_modules" (async) calls "save_item", which blocks: '
        f"two_levels_across_modules ({app}:{at['call']}) → save_item ({helpers}:"
        f"{at['save_item']}) → write_audit ({deep}:{at['write_audit']}) → "
        "sqlalchemy.orm.session.Session.commit (db); offload it: "
        "`await run_blocking(save_item, ...)`, or make two_levels_across_modules a plain def"
    )
    # through self.repo, a plain class of the app: the fix offloads the bound method
    method = messages[app, _line_of(app, "self.repo.add(name)  # E")]
    assert '"ItemService.create" (async) calls "ItemStore.add", which blocks: ' in method
    assert f"→ ItemStore.add ({helpers}:{_line_of(helpers, 'save_item(self.session')})" in method
    assert method.endswith(
        "offload it: `await run_blocking(self.repo.add, ...)`, or make ItemService.create a "
        "plain def"
    )
    # one call deeper to the catalogue, and a constructor whose __init__ connects
    render = messages[app, _line_of(app, "return render()")]
    assert f"→ render ({app}:{_line_of(app, 'check_output')}) → subprocess.check_output " in render
    mailer = messages[app, _line_of(app, "Mailer(host)  # E")]
    assert (
        f"→ Mailer.__init__ ({app}:{_line_of(app, 'smtplib.SMTP(host)')}) → smtplib.SMTP (net)"
        in (mailer)
    )


def _without_sites(message: str) -> str:
    """A run-time message as the plugin words it: mypy gives the place, so no ``(file:line)``."""
    return re.sub(r" \([^()]*:\d+\)", "", message).removesuffix(".")


def test_the_plugin_words_a_mistake_as_the_run_time_does(case_run: Run) -> None:
    """One voice: the run time's refusal, without its sites, is the plugin's message (or fix)."""
    messages = {(e.file, e.line): e.message for e in case_run.errors}

    def raised(error: type[Exception], action: Callable[[], object]) -> str:
        with pytest.raises(error) as caught:
            action()
        return str(caught.value)

    async def coroutine_function() -> int:
        return 1

    offloaded = raised(OffloadError, lambda: anyio.run(run_blocking, coroutine_function))
    line = _line_of("offloads.py", "run_blocking(coroutine_function)")
    assert messages["offloads.py", line] == _without_sites(offloaded)

    async def fetch() -> None: ...

    async def crunch() -> None: ...

    marked = raised(OffloadError, lambda: blocking(fetch))
    assert messages["markers.py", _line_of("markers.py", "async def fetch()")] == (
        _without_sites(marked)
    )
    refused = raised(ProcessTargetError, lambda: cpu_bound(crunch))
    assert messages["markers.py", _line_of("markers.py", "async def crunch()")] == (
        _without_sites(refused)
    )

    class Pricing:
        async def sneaky(self) -> int:
            return 1

    proxied = raised(OffloadError, lambda: to_async(Pricing()).sneaky)
    assert messages["proxy.py", _line_of("proxy.py", "await proxy.sneaky()")] == (
        _without_sites(proxied)
    )

    def define() -> None:
        class FakeAsyncRepository(SyncRepository):
            async def fetch(self, book_id: int) -> int:
                return book_id

    with pytest.raises(ModeMismatchError) as caught:
        define()
    line = _line_of("layer_mode.py", "async def fetch(self, book_id: int)")
    assert messages["layer_mode.py", line].endswith(f"; {caught.value.violations[0].fix}")


def _without_async(source: str) -> str:
    """The negative control: every ``async def`` becomes ``def``, ``await`` is stripped."""
    source = re.sub(r"\basync (def|with|for)\b", r"\1", source)
    source = re.sub(r"\bawait\s+", "", source)
    return _EXPECTED.sub("", source)


def test_negative_control_without_async_def_reports_no_blocking_call(
    tmp_path: Path, mypy_cache: Path
) -> None:
    """flake8-async's control: every ``async def`` made a ``def``, nothing blocks the loop.

    The propagation cases included: a helper that blocks, called from a
    ``def``, blocks a worker thread, not the loop.
    """
    controls = sorted(p.name for p in CONTROLS.glob("*.py") if p.name != "__init__.py")
    for folder, names in ((CASES, CASE_FILES), (CONTROLS, controls)):
        for name in names:
            (tmp_path / name).write_text(_without_async((folder / name).read_text()))
    run = run_mypy(tmp_path, [*CASE_FILES, *controls], mypy_cache)
    assert "async def" not in (tmp_path / "blocking_calls.py").read_text()
    assert "async def" not in (tmp_path / "propagation.py").read_text()
    assert run.errors, "the rewritten cases still hold mode errors: the run must have happened"
    blocking = [e for e in run.errors if e.code in ("boundary-blocking-call", "boundary-offload")]
    assert blocking == []


def test_negative_controls_sync_app_and_async_session_app_report_nothing(
    tmp_path: Path, mypy_cache: Path
) -> None:
    """``def`` routes over a sync Session; ``AsyncSession.add`` and offloaded sync helpers."""
    names = sorted(p.name for p in CONTROLS.glob("*.py") if p.name != "__init__.py")
    for name in names:
        shutil.copy(CONTROLS / name, tmp_path / name)
    run = run_mypy(tmp_path, names, mypy_cache)
    assert (run.status, run.errors) == (0, []), run.stdout


def test_a_class_wildcard_names_the_method_called_and_never_an_async_one(
    tmp_path: Path, mypy_cache: Path
) -> None:
    (tmp_path / "vendor.py").write_text(
        textwrap.dedent(
            """\
            class Client:
                def fetch(self) -> str:
                    return ""

                async def fetch_async(self) -> str:
                    return ""


            class Special(Client):
                def extra(self) -> int:
                    return 1
            """
        )
    )
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            from vendor import Client, Special


            async def handler(client: Client, special: Special) -> None:
                client.fetch()
                await client.fetch_async()
                special.extra()
                special.fetch()
                await special.fetch_async()
            """
        )
    )
    run = run_mypy(
        tmp_path,
        ["vendor.py", "app.py"],
        mypy_cache,
        "[fastapi-boundary-mypy]\nblocking = vendor.Client.* = net\n",
    )
    named = [(e.line, re.search(r'blocking "([^"]+)"', e.message)) for e in run.errors]
    assert [(line, found[1] if found else None) for line, found in named] == [
        (5, "vendor.Client.fetch"),
        (7, "vendor.Special.extra"),
        (8, "vendor.Client.fetch"),
    ], run.stdout


_DEEP = """\
from sqlalchemy.orm import Session


def write(session: Session) -> None:
{body}
"""
_HELPERS = """\
from sqlalchemy.orm import Session

from shop2.deep import write


def save(session: Session) -> None:
    write(session)
"""
_HANDLER = """\
from sqlalchemy.orm import Session

from shop2.helpers import save


async def handler(session: Session) -> None:
    save(session)
"""


def test_an_edit_in_a_helper_reaches_its_async_callers_on_a_warm_cache(
    tmp_path: Path, mypy_cache: Path
) -> None:
    """Effects live in each module's cache data: editing a helper re-checks its callers."""
    cache = tmp_path / "cache"
    shutil.copytree(mypy_cache, cache, dirs_exist_ok=True)
    package = tmp_path / "shop2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(_HELPERS)
    (package / "app.py").write_text(_HANDLER)

    def check(body: str) -> list[str]:
        (package / "deep.py").write_text(_DEEP.format(body=body))
        run = run_mypy(tmp_path, ["shop2"], cache)
        return [f"{e.file}:{e.line}: {_relative(e.message).split(';')[0]}" for e in run.errors]

    blocking = (
        'shop2/app.py:7: "handler" (async) calls "save", which blocks: handler (app.py:7) → '
        "save (helpers.py:7) → write (deep.py:{line}) → sqlalchemy.orm.session.Session.commit (db)"
    )
    assert check("    session.commit()") == [blocking.format(line=5)]  # cold
    assert check("    session.commit()") == [blocking.format(line=5)]  # warm, unchanged
    assert check("    session.add(object())") == []  # the helper no longer blocks
    assert check("    session.add(object())\n    session.commit()") == [blocking.format(line=6)]
    assert check("    session.commit()") == [blocking.format(line=5)]  # and back


# --- cache and configuration -------------------------------------------------------------

_LIB_BLOCKING = (
    "from fastapi_boundary import blocking\n\n\n@blocking\ndef fetch() -> int:\n    return 1\n"
)
_LIB_PLAIN = "def fetch() -> int:\n    return 1\n"
_REPO = """\
from fastapi_boundary import layer


@layer("{mode}")
class Repository:
    {prefix}def get(self) -> int:
        return 1
"""
_APP = """\
from shop.lib import fetch
from shop.repository import Repository


async def handler(repository: Repository) -> object:
    fetch()
    return repository.get()
"""


def _write_shop(root: Path, *, marked: bool, mode: str) -> None:
    package = root / "shop"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "lib.py").write_text(_LIB_BLOCKING if marked else _LIB_PLAIN)
    prefix = "async " if mode == "async" else ""
    (package / "repository.py").write_text(_REPO.format(mode=mode, prefix=prefix))
    (package / "app.py").write_text(_APP)


def test_multi_module_results_follow_marker_flips_on_a_warm_cache(
    tmp_path: Path, mypy_cache: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(mypy_cache, cache, dirs_exist_ok=True)

    def check() -> Counter[tuple[int, str]]:
        return run_mypy(tmp_path, ["shop"], cache).at("shop/app.py")

    _write_shop(tmp_path, marked=True, mode="sync")
    cold = check()
    assert cold == Counter({(6, "boundary-blocking-call"): 1, (7, "boundary-blocking-call"): 1})
    assert check() == cold  # warm, unchanged: the same errors

    _write_shop(tmp_path, marked=False, mode="sync")  # the marker goes: only the layer call
    assert check() == Counter({(7, "boundary-blocking-call"): 1})

    _write_shop(tmp_path, marked=False, mode="async")  # the layer turns async (metadata only)
    assert check() == Counter()

    _write_shop(tmp_path, marked=True, mode="sync")  # and back
    assert check() == cold


def test_effects_are_solved_across_an_import_cycle(tmp_path: Path, mypy_cache: Path) -> None:
    """Modules that import each other are solved together: the chain goes back and forth."""
    package = tmp_path / "cycle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from sqlalchemy.orm import Session\n\nfrom cycle import b\n\n\n"
        "def f(session: Session) -> None:\n    b.g(session)\n"
    )
    (package / "b.py").write_text(
        "from sqlalchemy.orm import Session\n\nfrom cycle import a\n\n\n"
        "def g(session: Session) -> None:\n    session.commit()\n\n\n"
        "def h(session: Session) -> None:\n    a.f(session)\n\n\n"
        "async def handler(session: Session) -> None:\n    h(session)\n"
    )
    run = run_mypy(tmp_path, ["cycle"], mypy_cache)
    assert [(e.file, e.line) for e in run.errors] == [("cycle/b.py", 15)], run.stdout
    assert "→ h (b.py:11) → f (a.py:7) → g (b.py:7) → sqlalchemy" in _relative(
        run.errors[0].message
    )


def test_configuration_is_part_of_the_cache(tmp_path: Path, mypy_cache: Path) -> None:
    (tmp_path / "client.py").write_text("def fetch(url: str) -> str:\n    return url\n")
    (tmp_path / "app.py").write_text(
        "from client import fetch\n\n\nasync def handler() -> str:\n    return fetch('x')\n"
    )
    cache = tmp_path / "cache"
    shutil.copytree(mypy_cache, cache, dirs_exist_ok=True)
    targets = ["client.py", "app.py"]

    plain = run_mypy(tmp_path, targets, cache, "\n")
    assert plain.errors == []
    listed = run_mypy(
        tmp_path,
        targets,
        cache,
        "[fastapi-boundary-mypy]\nblocking =\n  client.fetch = net: use client.AsyncClient\n",
    )
    assert [(e.file, e.line, e.code) for e in listed.errors] == [
        ("app.py", 5, "boundary-blocking-call")
    ]
    assert "use client.AsyncClient" in listed.errors[0].message
    disabled = run_mypy(
        tmp_path,
        targets,
        cache,
        "[fastapi-boundary-mypy]\nblocking = client.fetch = net\n"
        "disable = boundary-blocking-call\n",
    )
    assert disabled.errors == []
    again = run_mypy(tmp_path, targets, cache, "\n")
    assert again.errors == []


def test_pyproject_section_is_read(tmp_path: Path, mypy_cache: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import time\n\n\nasync def handler() -> None:\n    time.sleep(1)\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mypy]\nplugins = ["fastapi_boundary.mypy"]\n\n'
        '[tool.fastapi-boundary-mypy]\ndisable = ["boundary-blocking-call"]\n'
        'blocking = { "client.fetch" = "net" }\n'
    )
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(tmp_path / "pyproject.toml"),
            "--cache-dir",
            str(mypy_cache),
            str(tmp_path / "app.py"),
        ]
    )
    assert (stdout, stderr, status) == ("Success: no issues found in 1 source file\n", "", 0)


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ("colour = red\n", "unknown key(s) colour"),
        ("disable = boundary-everything\n", "unknown code(s) boundary-everything"),
        ("blocking = client.fetch = slow\n", "cannot add 'client.fetch'"),
    ],
)
def test_bad_configuration_is_refused_with_the_fix(
    tmp_path: Path, mypy_cache: Path, section: str, complaint: str
) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    run = run_mypy(tmp_path, ["app.py"], mypy_cache, f"[fastapi-boundary-mypy]\n{section}")
    assert run.status == 2
    assert complaint in run.stderr
    assert "[fastapi-boundary-mypy]" in run.stderr


def test_report_config_data_holds_every_configured_list() -> None:
    config = boundary_mypy.PluginConfig(
        blocking=("a.b = net",), disable=frozenset({"boundary-offload"}), offloads=("c.d",)
    )
    assert config.to_data() == {
        "blocking": ["a.b = net"],
        "disable": ["boundary-offload"],
        "offloads": ["c.d"],
    }


def test_code_that_only_looks_like_the_library_is_left_alone(
    tmp_path: Path, mypy_cache: Path
) -> None:
    (tmp_path / "lookalike.py").write_text(
        textwrap.dedent(
            """\
            class SyncRepository:
                def get(self) -> int:
                    return 1


            class Repository(SyncRepository):
                async def fetch(self) -> int:
                    return 1


            def blocking(func: object) -> object:
                return func


            async def handler(repository: Repository) -> int:
                return repository.get()
            """
        )
    )
    run = run_mypy(tmp_path, ["lookalike.py"], mypy_cache)
    assert run.status == 0, run.stdout
    assert run.errors == []


def test_hooks_of_plugins_listed_after_still_run(tmp_path: Path, mypy_cache: Path) -> None:
    """mypy runs only the first plugin's hook for a name: the plugin hands on to the next."""
    (tmp_path / "retyping.py").write_text(
        textwrap.dedent(
            """\
            from mypy.plugin import Plugin
            from mypy.types import LiteralType


            class Retyping(Plugin):
                def get_function_hook(self, fullname):
                    if fullname == "client.fetch":
                        return lambda ctx: LiteralType(7, ctx.api.named_type("builtins.int"))
                    return None


            def plugin(version):
                return Retyping
            """
        )
    )
    (tmp_path / "client.py").write_text("def fetch() -> int:\n    return 7\n")
    (tmp_path / "app.py").write_text(
        "from client import fetch\n\n\nasync def handler() -> None:\n    reveal_type(fetch())\n"
    )
    run = run_mypy(
        tmp_path,
        ["client.py", "app.py"],
        mypy_cache,
        f"plugins = fastapi_boundary.mypy, {tmp_path / 'retyping.py'}\n"
        "[fastapi-boundary-mypy]\nblocking = client.fetch = net\n",
    )
    assert [(e.file, e.line, e.code) for e in run.errors] == [
        ("app.py", 5, "boundary-blocking-call")
    ]
    assert 'app.py:5: note: Revealed type is "Literal[7]"' in run.stdout


def test_loading_the_plugin_imports_no_framework() -> None:
    """mypy loads the plugin in every run, for every project: it must stay cheap to import."""
    code = (
        "import sys, fastapi_boundary.mypy; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'anyio', 'pydantic', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- the examples --------------------------------------------------------------------------

#: What the plugin finds in ``examples/broken``: all seven mistakes.
_B = "examples/broken/"
BROKEN = Counter(
    {
        (_B + "fake_async_repository.py", 23, "boundary-layer-mode"): 1,
        (_B + "fake_async_repository.py", 24, "boundary-blocking-call"): 1,
        (_B + "async_service_over_sync_repository.py", 19, "boundary-layer-dependency"): 1,
        (_B + "async_service_over_sync_repository.py", 23, "boundary-blocking-call"): 1,
        (_B + "sync_method_in_async_service.py", 26, "boundary-layer-mode"): 1,
        (_B + "sync_router_async_endpoint.py", 20, "boundary-route-mode"): 1,
        (_B + "sync_router_async_endpoint.py", 20, "boundary-endpoint-dependency"): 1,
        (_B + "sync_router_async_endpoint.py", 21, "boundary-blocking-call"): 1,
        (_B + "main.py", 31, "boundary-endpoint-dependency"): 1,
        (_B + "main.py", 32, "boundary-blocking-call"): 1,
        (_B + "async_router_sync_service.py", 21, "boundary-endpoint-dependency"): 1,
        (_B + "async_router_sync_service.py", 22, "boundary-blocking-call"): 1,
        (_B + "cpu_bound_closure.py", 24, "boundary-marker"): 1,
    }
)


@pytest.fixture(scope="session")
def examples_run(tmp_path_factory: pytest.TempPathFactory, mypy_cache: Path) -> Run:
    config_file = write_config(tmp_path_factory.mktemp("examples-config"))
    return mypy_paths(config_file, [EXAMPLES], mypy_cache, ROOT)


def test_clean_example_apps_have_no_boundary_errors(examples_run: Run) -> None:
    clean = [e for e in examples_run.errors if not e.file.startswith(_B + "")]
    assert clean == [], examples_run.stdout


def test_broken_example_gives_exactly_its_expected_errors(examples_run: Run) -> None:
    broken = Counter(
        (e.file, e.line, e.code)
        for e in examples_run.errors
        if e.file.startswith(_B + "") and e.code.startswith("boundary-")
    )
    assert broken == BROKEN, examples_run.stdout
