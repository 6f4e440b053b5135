"""Detection benchmark: recall and false alarms of every detector on a corpus of real-app shapes.

Run from the repository root (the linters come with the ``bench`` dependency group)::

    .venv/bin/pip install flake8-async ruff
    .venv/bin/python benchmarks/bench_detection.py

``benchmarks/corpus`` holds three small apps shaped like public FastAPI apps (a
RealWorld-style blog, an incident tracker in the style of Netflix Dispatch, a media
service with vendored SDK clients); ``corpus/manifest.py`` labels each of their
functions that a detector should judge: blocking (it blocks the event loop when its
request is served) or a correct twin doing the same work right. Five detectors run
over it:

- the audit: ``check_app`` on each app; a function counts as found when an R5
  finding (blocking work on the loop) names it as the function on the loop;
- the mypy plugin: a real mypy run (``check_untyped_defs``) over a copy of the corpus;
  a ``boundary-blocking-call`` error inside the function's lines counts;
- the guard: each labelled function's request served through ``TestClient`` under
  ``guarded("warn")`` (the start-up for a lifespan), against a local HTTP server;
  any detection during that request counts;
- ``ruff check --select ASYNC`` and ``flake8-async --anyio``: a blocking-call rule
  (ASYNC2xx) inside the function's lines counts.

Recall is found / blocking functions; false alarms are twins reported. Budget (issue 11):
the audit and the plugin each >= 90% recall with no false alarm. The report is written to
``benchmarks/results/detection.txt``; the exit status is 1 when a budget is missed.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import RESULTS_DIR, argument_parser, header, progress, publish, report, verdict

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPUS = BENCH / "corpus"
BIN = Path(sys.executable).parent
RESULTS = RESULTS_DIR / "detection.txt"
RECALL_BUDGET = 0.90
TOOLS = ("audit (check_app)", "mypy plugin", "guard (warn)", "ruff ASYNC", "flake8-async")
COLUMNS = ("audit", "plugin", "guard", "ruff", "flake8")
BUDGETED = ("audit (check_app)", "mypy plugin")

_MYPY_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")
_LINT_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+):\d+: (?P<code>ASYNC\d+)")
_BLOCKING_RULES = "ASYNC2"  # the linters' blocking-call rules; ASYNC1xx are about other things


class Server:
    """A real HTTP server on 127.0.0.1 in a thread: what the corpus's clients call."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- what each detector finds: the labelled functions it reports ---------------------------


def by_lines(cases: list[Any], reported: set[tuple[str, int]]) -> set[str]:
    """The cases with a report inside their lines (reports are ``(file name relative to
    the corpus, line)``); a report inside a nested labelled function counts for it only."""
    from corpus.manifest import span

    spans = {case.function: span(case) for case in cases}
    found = set()
    for file, line in reported:
        inside = [
            (last - first, case)
            for case, (path, first, last) in spans.items()
            if path.relative_to(CORPUS).as_posix() == file and first <= line <= last
        ]
        if inside:
            found.add(min(inside)[1])
    return found


def run_audit(cases: list[Any]) -> set[str]:
    from corpus.manifest import resolve
    from fastapi_boundary import check_app
    from fastapi_boundary._common.sites import site_of
    from fastapi_boundary._common.violations import Rule

    sites = {str(site_of(resolve(case.function))): case.function for case in cases}
    found = set()
    for app in sorted({case.app for case in cases}):
        for violation in check_app(resolve(app)).violations:
            if violation.rule is Rule.R5 and str(violation.subject.site) in sites:
                found.add(sites[str(violation.subject.site)])
    return found


def _copy_corpus(work: Path) -> Path:
    target = work / "corpus"
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns("__pycache__", "ruff.toml"))
    return target


def _reported(
    output: str, pattern: re.Pattern[str], wanted: str, base: Path
) -> set[tuple[str, int]]:
    found = set()
    for line in output.splitlines():
        match = pattern.match(line.strip())
        if match and match["code"].startswith(wanted):
            path = Path(match["file"])
            path = path if path.is_absolute() else (base / path)
            try:
                relative = path.resolve().relative_to((base / "corpus").resolve())
            except ValueError:
                continue
            found.add((relative.as_posix(), int(match["line"])))
    return found


def run_plugin(cases: list[Any], work: Path) -> set[str]:
    _copy_corpus(work)
    config = work / "mypy.ini"
    config.write_text(
        "[mypy]\ncheck_untyped_defs = true\nshow_error_codes = true\n"
        "plugins = fastapi_boundary.mypy\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
         str(work / "mypy-cache"), "-p", "corpus"],
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    reported = _reported(result.stdout, _MYPY_LINE, "boundary-blocking-call", work)
    return by_lines(cases, reported)


def run_linters(cases: list[Any], work: Path) -> tuple[set[str], set[str]]:
    files = sorted(str(p) for p in (work / "corpus").rglob("*.py"))
    ruff = subprocess.run(
        [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", "ASYNC",
         "--output-format", "concise", str(work / "corpus")],
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    flake8 = subprocess.run(
        [str(BIN / "flake8-async"), "--anyio", *files],
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    return (
        by_lines(cases, _reported(ruff.stdout, _LINT_LINE, _BLOCKING_RULES, work)),
        by_lines(cases, _reported(flake8.stdout, _LINT_LINE, _BLOCKING_RULES, work)),
    )


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.propagate, logger.level
    logger.propagate = False
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.propagate, logger.level = before


def run_guard(cases: list[Any]) -> tuple[set[str], dict[str, list[str]]]:
    """Each case's request (or the app's start-up) under the guard in warn mode."""
    from fastapi.testclient import TestClient

    from corpus.manifest import resolve
    from fastapi_boundary._runtime.guard import guarded

    found: set[str] = set()
    names: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    with _quiet("fastapi_boundary.guard"), guarded("warn") as recorder:
        for app_name in sorted({case.app for case in cases}):
            mine = [case for case in cases if case.app == app_name]
            recorder.clear()
            client = TestClient(resolve(app_name), raise_server_exceptions=False)
            with client:
                started = list(recorder.detections)
                for case in mine:
                    if case.request == "lifespan":
                        seen = started
                    else:
                        recorder.clear()
                        method, _, path = case.request.partition(" ")
                        response = client.request(
                            method,
                            path,
                            content=case.body,
                            headers={"content-type": "application/json"} if case.body else {},
                        )
                        statuses[case.function] = response.status_code
                        seen = list(recorder.detections)
                    names[case.function] = sorted({d.blocking for d in seen})
                    if seen:
                        found.add(case.function)
    failed = {f: s for f, s in statuses.items() if s >= 500}
    if failed:
        progress(f"  requests that failed under the guard (server errors): {failed}")
    return found, names


# --- the report -----------------------------------------------------------------------------


def score(cases: list[Any], found: set[str]) -> tuple[int, int, int, int]:
    blocking = [case for case in cases if case.blocking]
    twins = [case for case in cases if not case.blocking]
    hits = sum(case.function in found for case in blocking)
    alarms = sum(case.function in found for case in twins)
    return hits, len(blocking), alarms, len(twins)


def tables(cases: list[Any], results: dict[str, set[str]]) -> tuple[list[str], bool]:
    shapes = list(dict.fromkeys(case.shape for case in cases))
    width, name = 8, 66
    lines = [
        f"1. Recall and false alarms on benchmarks/corpus: {len(cases)} labelled functions in "
        f"{len(shapes)} shapes, {sum(c.blocking for c in cases)} blocking and "
        f"{sum(not c.blocking for c in cases)} correct twins (corpus/manifest.py)",
        "   tool                  recall (found / blocking)      false alarms (twins reported)",
    ]
    passed = True
    for tool in TOOLS:
        hits, blocking, alarms, twins = score(cases, results[tool])
        recall = hits / blocking
        ok = recall >= RECALL_BUDGET and alarms == 0
        budget = f"  budget >= {RECALL_BUDGET:.0%}, 0 false alarms: {verdict(ok)}"
        if tool in BUDGETED:
            passed = passed and ok
        lines.append(
            f"   {tool:<20} {recall:>7.1%} ({hits:>2} / {blocking})"
            f"{alarms:>20} / {twins}{budget if tool in BUDGETED else ''}"
        )
    lines += [
        "",
        "2. Per function (x = reported; a twin reported is a false alarm)",
        "   " + " " * (name + 2) + "".join(f"{column:>{width}}" for column in COLUMNS),
    ]
    for shape in shapes:
        lines.append(f"   {shape}")
        for case in (c for c in cases if c.shape == shape):
            label = ("blocking " if case.blocking else "twin     ") + case.function
            marks = "".join(
                f"{'x' if case.function in results[tool] else '-':>{width}}" for tool in TOOLS
            )
            lines.append(f"     {label:<{name}}{marks}")
    return lines, passed


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--json", type=Path, help="also write what each tool found, as JSON")
    args = parser.parse_args()
    server = Server()
    os.environ["MEDIA_SERVICE_URL"] = server.url  # before the corpus is imported
    sys.path.insert(0, str(BENCH))
    os.chdir(ROOT)  # sites are relative to the working directory
    from corpus.manifest import CASES

    cases = list(CASES)
    head = header(
        "fastapi-boundary detection benchmark",
        ["fastapi-boundary", "fastapi", "sqlalchemy", "mypy", "ruff", "flake8-async"],
        summary="Figures are counts of labelled functions and their ratios (recall = found / "
        "blocking), all tools over the same corpus in the same run.",
    )
    results: dict[str, set[str]] = {}
    try:
        progress("audit: check_app on each app")
        results["audit (check_app)"] = run_audit(cases)
        with tempfile.TemporaryDirectory() as directory:
            work = Path(directory)
            progress("mypy with the plugin")
            results["mypy plugin"] = run_plugin(cases, work)
            progress("ruff and flake8-async")
            results["ruff ASYNC"], results["flake8-async"] = run_linters(cases, work)
        progress("guard: each request under guarded('warn')")
        results["guard (warn)"], names = run_guard(cases)
    finally:
        server.close()
    lines, passed = tables(cases, results)
    notes = [
        "",
        "   audit and plugin: the findings of R5 (blocking work on the loop) and",
        "   boundary-blocking-call only; R3 (an async endpoint that depends on a sync driver",
        "   at all) is a layering rule, not counted here.",
    ]
    if args.json is not None:
        args.json.write_text(
            json.dumps({tool: sorted(found) for tool, found in results.items()} | {"guard": names})
        )
    publish(report(head, [lines + notes], passed), RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
