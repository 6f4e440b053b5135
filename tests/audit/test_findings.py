"""Findings: one per cause however many routes reach it; fingerprints that survive edits."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from fastapi_boundary import AsyncService, check_app
from fastapi_boundary._audit.findings import group_findings, summarize
from tests.samples.drivers import get_session
from tests.samples.report_apps import shared_causes_source


@pytest.fixture
def import_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write a module to tmp_path and import it (sites are relative to it); forget it after."""
    names: list[str] = []
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, str(tmp_path))

    def load(name: str, source: str) -> ModuleType:
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        names.append(name)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield load
    sys.path.remove(str(tmp_path))
    for name in names:
        sys.modules.pop(name, None)


def test_one_finding_per_cause_with_the_routes_it_affects(import_source: Any) -> None:
    module = import_source("shared_app", shared_causes_source(users=150, audited=80, priced=60))
    report = check_app(module.app)
    assert len(report.violations) == 2 * 150 + 80 + 60  # each users route reaches it twice

    findings = group_findings(report)

    assert [(f.subject.name, len(f.routes), f.occurrences) for f in findings] == [
        ("current_user", 150, 300),
        ("audit", 80, 80),
        ("pricing", 60, 60),
    ]
    user, audit, pricing = findings
    assert user.summary == (
        "async dependency current_user (shared_app.py:17) depends on sync driver Session "
        "(sqlalchemy.orm.session), provided by get_session (shared_app.py:9)"
    )
    assert "route" not in user.summary  # the cause, the same for every route
    assert user.chain == ("current_user", "get_session", "Session")
    assert user.routes[:2] == ("GET /users/0", "GET /users/1")
    assert len(set(user.routes)) == len(user.routes)
    assert audit.chain == ("audit", "AuditStore")
    assert pricing.other is not None and pricing.other.name == "PriceService"
    assert len({f.fingerprint for f in findings}) == 3
    summary = summarize(report, findings)
    assert (summary.routes, summary.findings, summary.violations) == (291, 3, 440)
    assert summary.routes_affected == 290  # all but /health
    assert summary.by_rule == {"R3": 3}
    assert summary.text() == (
        "3 findings affecting 290 of 291 routes (440 violations, grouped by cause)"
    )


def test_the_route_violations_keep_their_route_and_full_chain(import_source: Any) -> None:
    """Import-time errors and RouteReport.violations still name the route."""
    module = import_source("shared_app", shared_causes_source(users=1, audited=0, priced=0))
    (route,) = [r for r in check_app(module.app).routes if r.label == "GET /users/0"]
    direct, through_admin = route.violations
    assert direct.route == "GET /users/0"
    assert direct.summary.startswith("async dependency current_user (shared_app.py:17) of route ")
    assert direct.chain == ("GET /users/0", "user_0", "current_user", "get_session", "Session")
    assert through_admin.chain[:3] == ("GET /users/0", "user_0", "admin")
    assert direct.cause_chain == through_admin.cause_chain
    assert direct.cause_summary == through_admin.cause_summary


def test_fingerprints_do_not_move_with_unrelated_lines(import_source: Any) -> None:
    before = import_source("app_before", shared_causes_source(users=3, audited=3, priced=3))
    after = import_source(
        "app_after", shared_causes_source(users=3, audited=3, priced=3, padding=25)
    )
    # the same app in another file name would change the fingerprints: compare one file
    first = group_findings(check_app(before.app))
    second = group_findings(check_app(after.app))
    assert [f.site.line + 25 for f in first] == [f.site.line for f in second]
    moved = {f.subject.name: f.fingerprint for f in second}
    renamed = {f.subject.name: f.fingerprint for f in first}
    assert moved.keys() == renamed.keys()
    assert moved != renamed  # the file is part of the identity ...
    (tmp,) = {Path(f.site.file).parent for f in first}
    (tmp / "app_before.py").write_text(
        shared_causes_source(users=3, audited=3, priced=3, padding=25), encoding="utf-8"
    )
    sys.modules.pop("app_before")
    importlib.invalidate_caches()
    edited = importlib.import_module("app_before")
    third = group_findings(check_app(edited.app))
    assert [f.site.line for f in third] == [f.site.line + 25 for f in first]
    assert [f.fingerprint for f in third] == [f.fingerprint for f in first]  # ... lines are not


COLLIDING = """
from typing import Annotated
from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session
from tests.samples.drivers import get_session


def first():
    async def dependency(session: Annotated[Session, Depends(get_session)]) -> int:
        return 1
    return dependency


def second():
    async def dependency(session: Annotated[Session, Depends(get_session)]) -> int:
        return 2
    return dependency


app = FastAPI()


@app.get("/a")
async def a(value: Annotated[int, Depends(first())]) -> int:
    return value


@app.get("/b")
async def b(value: Annotated[int, Depends(second())]) -> int:
    return value
"""


def test_true_collisions_get_distinct_deterministic_fingerprints(import_source: Any) -> None:
    """Two closures named alike in one file, at two lines: same names and file, two causes."""
    module = import_source("colliding_app", COLLIDING)
    findings = group_findings(check_app(module.app))
    assert [(f.subject.name, f.routes) for f in findings] == [
        ("dependency", ("GET /a",)),
        ("dependency", ("GET /b",)),
    ]
    fingerprints = [f.fingerprint for f in findings]
    assert len(set(fingerprints)) == 2
    assert [f.fingerprint for f in group_findings(check_app(module.app))] == fingerprints


ONE_CLOSURE = """
from typing import Annotated
from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session
from tests.samples.drivers import get_session


def make_dependency():
    async def dependency(session: Annotated[Session, Depends(get_session)]) -> int:
        return 1
    return dependency


app = FastAPI()
for n in range(3):  # three closures, one line of code: one thing to fix

    @app.get(f"/item/{n}")
    async def item(value: Annotated[int, Depends(make_dependency())]) -> int:
        return value
"""


def test_one_closure_used_by_many_routes_is_one_cause(import_source: Any) -> None:
    module = import_source("one_closure_app", ONE_CLOSURE)
    (finding,) = group_findings(check_app(module.app))
    assert finding.routes == ("GET /item/0", "GET /item/1", "GET /item/2")
    assert finding.occurrences == 3


LAYERS = """
from typing import Annotated
from fastapi import Depends, FastAPI
from fastapi_boundary import SyncRepository, SyncService, configure

configure("off")  # let the broken layer be created, as warn or off mode would


class Books(SyncRepository):
    async def fetch(self) -> int:  # R2: an async method in a sync repository
        return 1


class Shelf(SyncService):
    def __init__(self, books: Books) -> None:
        self.books = books


class Ledger(SyncRepository):
    def read(self) -> int:
        return 1


configure("strict")
app = FastAPI()


def get_shelf() -> Shelf:
    return Shelf(Books())


@app.get("/direct")
def direct(books: Annotated[Books, Depends()]) -> int:
    return 1


@app.get("/named")  # reaches Books only through the layer that names it
def named(shelf: Annotated[Shelf, Depends(get_shelf)]) -> int:
    return 1


@app.get("/other")
def other(ledger: Annotated[Ledger, Depends()]) -> int:
    return 1
"""


def test_a_layer_finding_lists_the_routes_that_reach_the_layer(import_source: Any) -> None:
    report = check_app(import_source("layers_app", LAYERS).app)
    (finding,) = group_findings(report)
    assert finding.rule.code == "R2" and finding.subject.name == "Books.fetch"
    assert finding.routes == ("GET /direct", "GET /named")
    assert summarize(report, [finding]).routes_affected == 2


# --- hops: what FastAPI really runs in the threadpool --------------------------------------


def _factory(tag: str) -> Any:
    def dependency() -> str:
        return tag

    return dependency


first, second = _factory("a"), _factory("b")


class Notifier(AsyncService):
    async def send(self) -> None:
        return None


def test_two_closures_of_one_factory_are_two_calls() -> None:
    app = FastAPI()

    @app.get("/two")
    async def two(
        a: Annotated[str, Depends(first)],
        b: Annotated[str, Depends(second)],
        again: Annotated[str, Depends(first)],  # cached: the same callable, one call
    ) -> str:
        return a + b + again

    (route,) = check_app(app).routes
    assert route.hop_sources() == [("dependency", 1), ("dependency", 1)]
    assert route.thread_hops == 2


def test_use_cache_false_is_called_every_time() -> None:
    app = FastAPI()

    @app.get("/uncached")
    async def uncached(
        a: Annotated[str, Depends(first, use_cache=False)],
        b: Annotated[str, Depends(first, use_cache=False)],
    ) -> str:
        return a + b

    (route,) = check_app(app).routes
    assert route.thread_hops == 2


def test_response_validation_is_a_hop_only_for_a_def_endpoint_with_a_model() -> None:
    app = FastAPI()

    @app.get("/model")
    def model() -> dict[str, int]:
        return {"a": 1}

    @app.get("/explicit", response_model=list[int])
    def explicit() -> Any:
        return [1]

    @app.get("/none", response_model=None)
    def none() -> dict[str, int]:
        return {"a": 1}

    @app.get("/unannotated")
    def unannotated():  # type: ignore[no-untyped-def]
        return {"a": 1}

    @app.get("/response")
    def response() -> Response:
        return PlainTextResponse("x")

    @app.get("/async")
    async def in_the_loop() -> dict[str, int]:
        return {"a": 1}

    hops = {route.path: route.thread_hops for route in check_app(app).routes}
    assert hops == {
        "/model": 2,
        "/explicit": 2,
        "/none": 1,
        "/unannotated": 1,
        "/response": 1,
        "/async": 0,
    }
    (model_route, *_) = check_app(app).routes
    assert model_route.hop_sources() == [("endpoint model", 1), ("response validation", 1)]


def test_hops_with_a_generator_and_a_class() -> None:
    app = FastAPI()

    @app.get("/mixed")
    async def mixed(
        session: Annotated[Session, Depends(get_session)],  # setup and teardown
        notifier: Annotated[Notifier, Depends()],  # a class is constructed in the threadpool
    ) -> int:
        return 1

    (route,) = check_app(app).routes
    assert route.hop_sources() == [("get_session (setup, teardown)", 2), ("Notifier", 1)]
