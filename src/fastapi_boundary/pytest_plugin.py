"""pytest plugin: the blocking-call guard for test runs.

Loaded in every project where fastapi-boundary is installed (``pytest11``),
so importing it costs nothing and it does nothing until opted in: with
``--boundary=strict|warn`` or the ini key ``boundary = strict``, or per test
with the ``boundary_guard`` fixture.  Then blocking work on the event loop —
in async tests, and in requests made through TestClient/httpx to a
FastAPI app — fails the test (strict) or is logged (warn), and the terminal
summary lists what was caught and which exemptions never fired.

ini keys: ``boundary`` (mode), ``boundary_baseline`` (a baseline file),
``boundary_exempt`` (lines ``name = reason``), ``boundary_blocking`` (lines
``qualified.name = category``), ``boundary_threshold`` (seconds, step
timing), ``boundary_endpoints`` (also time async endpoints and dependencies).
``--update-baseline`` rewrites the baseline from the run.

``[tool.fastapi-boundary.guard]`` in the project's ``pyproject.toml`` gives
the same settings as defaults (``mode``, ``baseline``, ``exempt``,
``blocking``, ``threshold``, ``endpoints``); the options and ini keys win.  A
mistake anywhere in ``[tool.fastapi-boundary]`` stops the run at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._common.config import BoundaryConfig
    from ._runtime.detection import Detection
    from ._runtime.exemptions import Exemption

PLUGIN_NAME = "fastapi-boundary-guard"
MARKER = "boundary_allow"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastapi-boundary")
    group.addoption(
        "--boundary",
        choices=("strict", "warn", "off"),
        default=None,
        help="fastapi-boundary guard: blocking work on the event loop fails the test "
        "(strict), is logged (warn), or is not looked for (off, the default).",
    )
    group.addoption(
        "--update-baseline",
        action="store_true",
        default=False,
        help="fastapi-boundary: rewrite the boundary_baseline file from this run.",
    )
    parser.addini("boundary", "fastapi-boundary guard mode: strict, warn or off", default="")
    parser.addini("boundary_baseline", "fastapi-boundary baseline file (JSON)", default="")
    parser.addini(
        "boundary_exempt", "fastapi-boundary exemptions: `name = reason`", type="linelist"
    )
    parser.addini(
        "boundary_blocking",
        "fastapi-boundary catalogue additions: `qualified.name = category`",
        type="linelist",
    )
    parser.addini("boundary_threshold", "fastapi-boundary step threshold (seconds)", default="")
    parser.addini(
        "boundary_endpoints",
        "fastapi-boundary: also time the steps of async endpoints and dependencies",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names, reason): allow the named blocking callables or layers in this test "
        "(fastapi-boundary); the test fails if one of them never fires.",
    )
    table = _table(config)
    mode = (
        config.getoption("boundary")
        or str(config.getini("boundary")).strip()
        or table.guard.mode
        or "off"
    )
    if config.getoption("update_baseline") and mode == "off":
        mode = "warn"
    if mode == "off":
        return
    from ._common.policy import policy_problem

    problem = policy_problem(
        mode, "fastapi-boundary: --boundary / ini key `boundary`", "boundary = strict, warn or off."
    )
    if problem is not None:
        raise pytest.UsageError(problem)
    if config.getoption("update_baseline") and config.getoption("numprocesses", None):
        raise pytest.UsageError(
            "fastapi-boundary: --update-baseline needs the whole run in one process "
            "(each xdist worker sees only its share). Fix: run it without -n."
        )
    config.pluginmanager.register(GuardPlugin(config, mode, table), PLUGIN_NAME)


def _table(config: pytest.Config) -> BoundaryConfig:
    """``[tool.fastapi-boundary]`` of the project: the ini file if it is a pyproject.toml, else
    the first one found from the root folder upward."""
    from ._common.config import load_config  # pure: no framework is imported

    inipath = config.inipath
    try:
        if inipath is not None and inipath.name == "pyproject.toml":
            return load_config(inipath)
        return load_config(start=config.rootpath)
    except Exception as error:
        from ._common.errors import BoundaryError  # imported only when there is a mistake

        if not isinstance(error, BoundaryError):
            raise
        raise pytest.UsageError(f"fastapi-boundary: {error}") from error


def _baseline_path(config: pytest.Config, table: BoundaryConfig) -> Path | None:
    value = str(config.getini("boundary_baseline")).strip()
    return Path(config.rootpath, value) if value else table.guard.baseline


def _is_async(function: object) -> bool:
    raw = inspect.unwrap(function) if callable(function) else function
    return inspect.iscoroutinefunction(raw) or inspect.isasyncgenfunction(raw)


class GuardPlugin:
    """The guard for a whole session (registered only when opted in)."""

    def __init__(self, config: pytest.Config, mode: str, table: BoundaryConfig) -> None:
        self.config = config
        self.mode = mode
        self.table = table.guard
        self.update = bool(config.getoption("update_baseline"))
        self.baseline = _baseline_path(config, table)
        self.partial = False
        self.stale: list[Exemption] = []
        self.written = 0

    # --- session -------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from ._common.errors import BoundaryError
        from ._runtime import exemptions, guard

        table = self.table
        threshold = str(self.config.getini("boundary_threshold")).strip()
        exempt = self.config.getini("boundary_exempt")
        try:
            configured = exemptions.parse_exemptions(
                dict(table.exempt), "[tool.fastapi-boundary.guard] exempt"
            )
            guard.enable(
                "warn" if self.update else self.mode,  # type: ignore[arg-type]
                threshold=float(threshold)
                if threshold
                else table.threshold or guard.DEFAULT_THRESHOLD,
                blocking=[*table.blocking, *self.config.getini("boundary_blocking")],
                exemptions=exemptions.parse_exemptions(exempt, "ini boundary_exempt") + configured,
                baseline=None if self.update else self.baseline,
                endpoints=bool(self.config.getini("boundary_endpoints") or table.endpoints),
            )
        except (ValueError, BoundaryError) as error:
            raise pytest.UsageError(f"fastapi-boundary: {error}") from error

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.partial = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from ._runtime import exemptions, guard

        recorder = guard.recorder()
        if self.update and self.baseline is not None:
            self.written = len(exemptions.write_baseline(self.baseline, recorder.detections))
        elif not self._partial_run(session):
            self.stale = guard.exemptions().stale()
            if self.stale and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from ._runtime import guard

        guard.disable()

    def _partial_run(self, session: pytest.Session) -> bool:
        """Stale exemptions are only judged on a run of the whole suite."""
        explicit = self.config.args_source == pytest.Config.ArgsSource.ARGS
        # under xdist each worker runs a share of the tests and the controller runs none
        worker = hasattr(self.config, "workerinput") or bool(
            self.config.getoption("numprocesses", None)
        )
        return (
            self.partial
            or explicit
            or worker
            or session.testsfailed > 0
            or session.shouldstop is True
        )

    # --- per test ------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        from ._runtime import guard

        guard.refresh()
        marker_names: list[str] = []
        reasons: list[str] = []
        for marker in item.iter_markers(MARKER):
            marker_names.extend(str(name) for name in marker.args)
            reasons.append(str(marker.kwargs.get("reason", "")))
        if marker_names:
            if not all(reasons):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{MARKER}({', '.join(map(repr, marker_names))}) "
                    f"needs a reason. Fix: add reason='why this test may block'."
                )
            allowance = guard.allow(marker_names, "; ".join(reasons), f"{MARKER} marker")
            item.stash[_ALLOWANCE] = allowance
            item.stash[_ALLOWED] = allowance.__enter__()
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        from ._runtime import detection, guard, loop_threads

        guard.refresh()
        recorder = detection.recorder
        before = len(recorder.detections)
        function = getattr(item, "obj", None)
        if _is_async(function):  # the test body runs on the loop (any backend)
            with loop_threads.loop_thread():
                result = yield
        else:
            result = yield
        owned = "boundary_guard" in getattr(item, "fixturenames", ())
        caught = recorder.detections[before:]
        if caught and self.mode == "strict" and not owned and not self.update:
            # An app that turned the error into a 500 must not hide it, nor the first
            # detection the others of the test.
            from ._common.errors import BlockingCallError

            message = detection.format_message(caught[0])
            others = list(dict.fromkeys(detection.format_message(d) for d in caught[1:]))
            others = [other for other in others if other != message]
            if others:
                message += f"\nand {len(others)} more in this test:\n" + "\n".join(
                    f"- {other}" for other in others
                )
            raise BlockingCallError(message, detection=caught[0])
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: Any) -> Iterator[None]:
        result = yield
        allowance = item.stash.get(_ALLOWANCE, None)
        if allowance is not None:
            allowed = item.stash[_ALLOWED]
            allowance.__exit__(None, None, None)
            del item.stash[_ALLOWANCE]
            stale = allowed.stale()
            if stale:
                names = ", ".join(exemption.name for exemption in stale)
                pytest.fail(
                    f"@pytest.mark.{MARKER}: {names} never blocked in {item.nodeid}. "
                    f"Fix: remove {'them' if len(stale) > 1 else 'it'} from the marker.",
                    pytrace=False,
                )
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Iterator[Any]:
        from ._runtime import loop_threads

        if _is_async(fixturedef.func):
            with loop_threads.loop_thread():
                return (yield)
        return (yield)

    # --- report --------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ._runtime import guard

        recorder = guard.recorder()
        write = terminalreporter.write_line
        if not (recorder.detections or recorder.exempted or self.stale or self.update):
            return
        terminalreporter.section("fastapi-boundary guard")
        causes = recorder.causes()
        if causes:
            write(
                f"blocking work on the event loop ({self.mode}): {len(causes)} distinct, "
                "one line per fake-async function and blocking call"
            )
        for cause in causes:
            write(f"  {cause.describe()}")
        if recorder.exempted:
            write(f"exempted: {len(recorder.exempted)} call(s)")
        if self.update and self.baseline is not None:
            write(f"baseline written: {self.baseline} ({self.written} entries)")
        if self.stale:
            write("stale exemptions (never fired; remove them so the baseline shrinks):")
            for exemption in self.stale:
                write(f"  {exemption}")


_ALLOWANCE = pytest.StashKey[Any]()
_ALLOWED = pytest.StashKey[Any]()


class Recorded:
    """What the guard reported during one test (the ``boundary_guard`` fixture)."""

    def __init__(self, start: int) -> None:
        self._start = start

    @property
    def detections(self) -> list[Detection]:
        from ._runtime import detection

        return detection.recorder.detections[self._start :]

    @property
    def calls(self) -> list[Detection]:
        return [d for d in self.detections if d.kind == "call"]

    @property
    def steps(self) -> list[Detection]:
        return [d for d in self.detections if d.kind == "step"]

    def names(self) -> list[str]:
        return [d.blocking for d in self.detections]

    def clear(self) -> None:
        from ._runtime import detection

        self._start = len(detection.recorder.detections)


@pytest.fixture
def boundary_guard(request: pytest.FixtureRequest) -> Iterator[Recorded]:
    """The guard for this test (strict unless the session set a mode), and what it caught.

    The test owns what it catches: strict mode does not fail it afterwards
    for detections it asserted on.
    """
    from ._runtime import detection, guard

    started = not guard.is_enabled()
    if started:
        guard.enable("strict")
    guard.refresh()
    try:
        yield Recorded(len(detection.recorder.detections))
    finally:
        if started:
            guard.disable()
