"""Every report says what the body analysis covered: "no findings" only when it saw everything.

And R5 findings are findings like any other: grouped, fingerprinted, suppressed, baselined.
Negative controls (a sync app of hundreds of ``def`` routes over a sync ``Session``, an
async app over ``AsyncSession``) stay at zero findings.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fastapi_boundary import check_app, load_config, suppress_rule
from fastapi_boundary._audit.adoption import adoption_of, update_baseline, verdict
from fastapi_boundary._audit.bodies import MAX_DEPTH
from fastapi_boundary._audit.findings import group_findings
from fastapi_boundary._audit.render import render
from fastapi_boundary._audit.report import AppReport
from fastapi_boundary._audit.sarif import sarif_document
from fastapi_boundary.cli import main
from tests.helpers import NEEDS_DEPENDS_SCOPE, ROOT, line_of
from tests.samples.fake_async.db import Item, get_async_session, get_session

HERE = "tests/audit/test_coverage.py"

registry: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# --- an app the analysis cannot see all of ------------------------------------------------------


def get_db():  # type: ignore[no-untyped-def]
    return registry.get("db")  # nothing says what it is


async def get_items(session=Depends(get_db)) -> list[Any]:  # type: ignore[no-untyped-def]
    return list(session.execute(text("select 1")))


async def health() -> str:
    return "ok"


def unresolved_app() -> FastAPI:
    app = FastAPI()
    app.add_api_route("/items", get_items)
    app.add_api_route("/health", health)
    return app


RECEIVER = "session (parameter of get_items, no annotation, provider get_db returns nothing known)"


def test_no_finding_is_not_clean_when_calls_were_not_resolved() -> None:
    report = check_app(unresolved_app())
    assert report.ok  # coverage gaps do not fail the run
    coverage = report.coverage
    assert coverage is not None and not coverage.complete
    # list(), session.execute(), text(); not registry.get(): get_db runs in the threadpool
    assert (coverage.functions, coverage.analysed, coverage.calls) == (2, 2, 3)
    assert coverage.unresolved == {RECEIVER: 1}
    table = render(report, "table")
    lines = table.splitlines()
    headline = (
        "no finding in what was analysed (2 of 2 async functions, 1 call unresolved) of 2 routes"
    )
    assert lines[0] == headline and lines[-1] == headline  # never "no findings"
    assert "no findings" not in table
    assert lines[-5:-1] == [
        "Coverage: incomplete: 2 of 2 async functions on the event loop analysed, 2 of 3 calls "
        "resolved",
        "  unresolved calls (1), by receiver (annotate it, or name its type in a provider's "
        "return annotation):",
        f"    {RECEIVER}: 1",
        "",
    ]


def test_the_coverage_in_every_format() -> None:
    report = check_app(unresolved_app())
    document = json.loads(render(report, "json"))
    assert document["version"] == 1  # an optional key added, nothing changed
    assert document["ok"] is True
    assert document["coverage"] == {
        "complete": False,
        "functions": 2,
        "analysed": 2,
        "helpers": 0,
        "calls": 3,
        "unresolved_calls": 1,
        "unresolved": [{"receiver": RECEIVER, "calls": 1}],
        "not_analysed": [],
        "not_followed": [],
        "depth": MAX_DEPTH,
    }
    assert document["summary"]["text"].startswith("no finding in what was analysed")
    sarif = sarif_document(report)
    run = sarif["runs"][0]
    assert run["properties"]["coverage"] == document["coverage"]
    (notification,) = [
        n
        for n in run["invocations"][0]["toolExecutionNotifications"]
        if n["message"]["text"].startswith("Coverage:")
    ]
    assert notification["level"] == "warning"
    github = render(report, "github").splitlines()
    assert github[-2].startswith("::notice title=fastapi-boundary coverage::Coverage: incomplete")
    assert "%0A    session (parameter of get_items" in github[-2]
    quiet = render(report, "table", quiet=True).splitlines()
    assert quiet[-3] == f"    {RECEIVER}: 1"  # the report ends with its coverage
    assert quiet[-1] == quiet[0]  # and the summary, the last line a log shows


def test_the_cli_exit_status_ignores_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gappy.py").write_text(
        "from fastapi import FastAPI, Depends\n"
        "def get_db():\n    return None\n"
        "async def items(db=Depends(get_db)):\n    return db.rows()\n"
        "app = FastAPI()\napp.add_api_route('/items', items)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "gappy:app", "--app-dir", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no finding in what was analysed (1 of 1 async function, 1 call ")
    sys.modules.pop("gappy", None)


def test_a_complete_analysis_says_no_findings() -> None:
    app = FastAPI()
    app.add_api_route("/health", health)
    report = check_app(app)
    assert report.coverage is not None and report.coverage.complete
    table = render(report, "table")
    assert table.splitlines()[0] == "no findings in 1 route"
    assert "Coverage: complete: 1 of 1 async function on the event loop analysed, 0 calls, " in (
        table
    )
    sarif = sarif_document(report)
    levels = [n["level"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert levels == ["note", "note"]  # the summary, the coverage


# --- what is out of reach --------------------------------------------------------------------


def helper_1(session: Session) -> None:
    helper_2(session)


def helper_2(session: Session) -> None:
    helper_3(session)


def helper_3(session: Session) -> None:
    helper_4(session)


def helper_4(session: Session) -> None:
    session.flush()
    helper_5(session)


def helper_5(session: Session) -> None:
    session.commit()


async def deep(session=Depends(get_session)) -> None:  # type: ignore[no-untyped-def]
    helper_1(session)


def test_helpers_are_followed_four_calls_deep_and_the_rest_is_said() -> None:
    app = FastAPI()
    app.add_api_route("/deep", deep)
    report = check_app(app)
    (violation,) = report.violations
    assert [link.split(" (")[0] for link in violation.cause_chain] == [
        "deep",
        "helper_1",
        "helper_2",
        "helper_3",
        "helper_4",
        "Session.flush",  # found in the fourth helper; helper_5's commit is out of reach
    ]
    coverage = report.coverage
    assert coverage is not None and not coverage.complete
    assert coverage.not_followed == [f"helper_5 ({HERE}:{line_of(helper_4, 'helper_5(session)')})"]
    assert "  not followed, deeper than 4 calls: helper_5" in render(report, "table")


def test_functions_without_source_are_counted_not_analysed() -> None:
    namespace: dict[str, Any] = {}
    exec("async def generated():\n    return 1\n", namespace)
    app = FastAPI()
    app.add_api_route("/generated", namespace["generated"])
    app.add_api_route("/health", health)
    report = check_app(app)
    coverage = report.coverage
    assert coverage is not None
    assert (coverage.functions, coverage.analysed) == (2, 1)
    assert render(report, "table").splitlines()[0] == (
        "no finding in what was analysed (1 of 2 async functions) of 2 routes"
    )
    assert "  not analysed: generated (<string>:1): no source" in render(report, "table")


# --- negative controls -------------------------------------------------------------------------


def test_a_sync_app_of_hundreds_of_def_routes_over_a_sync_session() -> None:
    app = FastAPI()
    for n in range(300):

        def endpoint(session: Session = Depends(get_session), n: int = n) -> int:
            session.execute(text("select 1"))
            session.commit()
            return n

        app.add_api_route(f"/items/{n}", endpoint)
    report = check_app(app)
    assert report.violations == []
    assert report.coverage is not None
    assert (report.coverage.functions, report.coverage.complete) == (0, True)
    assert render(report, "table").splitlines()[0] == "no findings in 300 routes"


async def create(name: str, session: AsyncSession = Depends(get_async_session)) -> dict[str, int]:
    item = Item(name=name)
    session.add(item)  # sync, no I/O
    await session.flush()
    await session.commit()
    await session.refresh(item)
    rows = (await session.scalars(select(Item).where(Item.name == name))).all()
    return {"id": item.id, "rows": len(rows)}


def test_an_async_app_over_async_session() -> None:
    app = FastAPI()
    for n in range(100):
        app.add_api_route(f"/items/{n}", create, methods=["POST"])
    report = check_app(app)
    assert report.violations == []
    assert report.coverage is not None and report.coverage.complete


# --- R5 findings flow through grouping, suppressions and the baseline -----------------------------


async def shared_user(session=Depends(get_session)) -> str:  # type: ignore[no-untyped-def]
    session.execute(text("select 1"))
    return "ada"


@suppress_rule("R5", reason="the legacy report runs once a night, until #42")
async def nightly(session=Depends(get_session)) -> None:  # type: ignore[no-untyped-def]
    session.commit()


def shared_app() -> FastAPI:
    app = FastAPI()
    for n in range(20):

        async def page(user: str = Depends(shared_user)) -> str:
            return user

        app.add_api_route(f"/page/{n}", page)
    app.add_api_route("/nightly", nightly)
    return app


def test_one_finding_for_a_dependency_shared_by_every_route() -> None:
    report = check_app(shared_app())
    assert len(report.violations) == 20  # the suppressed one is set aside
    (finding,) = group_findings(report)
    assert (finding.rule.code, finding.subject.name, len(finding.routes)) == (
        "R5",
        "shared_user",
        20,
    )
    adoption = adoption_of(report)
    assert adoption is not None
    (suppressed,) = adoption.suppressed
    assert suppressed.violation.subject.name == "nightly"
    assert suppressed.suppression.reason == "the legacy report runs once a night, until #42"


@pytest.fixture
def pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.fastapi-boundary]\nbaseline = "baseline.json"\n\n'
        "[[tool.fastapi-boundary.suppress]]\n"
        'rule = "R5"\n'
        f'dependency = "{__name__}.shared_user"\n'
        'reason = "moves to AsyncSession in #43"\n'
    )
    return path


def test_configured_suppressions_and_the_baseline(pyproject: Path) -> None:
    config = load_config(pyproject)
    report = check_app(shared_app(), config=config)
    assert report.violations == []
    adoption = adoption_of(report)
    assert adoption is not None and adoption.ok
    assert len(adoption.suppressed) == 21  # 20 routes in config, 1 in code

    unsuppressed = replace(config, suppress=())
    first = check_app(shared_app(), config=unsuppressed)
    assert verdict(first, "strict") == 1
    assert config.baseline is not None
    update_baseline(first, config.baseline)
    known = check_app(shared_app(), config=unsuppressed)
    assert verdict(known, "strict") == 0
    baselined = adoption_of(known)
    assert baselined is not None
    assert [finding.rule.code for finding in baselined.baselined] == ["R5"]


def test_import_failed_reports_have_no_coverage() -> None:
    report = AppReport(import_failed=True)
    assert report.coverage is None
    assert "Coverage" not in render(report, "table")
    assert json.loads(render(report, "json"))["coverage"] is None


@NEEDS_DEPENDS_SCOPE
def test_the_audit_reads_the_same_code_with_the_guard_on() -> None:
    """The guard and step timing wrap layer methods, endpoints and dependencies while on:
    the body analysis reads the originals (same findings, same coverage), not the wrappers."""
    from examples.async_bookshop.main import app

    from fastapi_boundary import guarded

    plain = check_app(app)
    with guarded("strict"):
        wrapped = check_app(app)
    assert wrapped.coverage is not None and plain.coverage is not None
    assert wrapped.coverage.complete and plain.coverage.complete
    assert wrapped.summary() == plain.summary()
    last_line = render(wrapped, "table").splitlines()[-1]
    assert last_line == render(plain, "table").splitlines()[-1]
    assert last_line.startswith("no findings in ") and last_line.endswith(" routes")
