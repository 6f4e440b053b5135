"""The body analysis (R5): fake async found through what types leave as ``Any``, twins clean.

Each shape of issue 11 (``tests/samples/fake_async``) is a real FastAPI app over real
SQLAlchemy sessions (sync, and async on aiosqlite); every wrong function is reported
with its chain (each link at its ``file:line``) and a fix, every twin is reported nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fastapi_boundary import AsyncService, SyncRepository, blocking, check_app, cpu_bound, layer
from fastapi_boundary._audit.findings import group_findings
from fastapi_boundary._audit.report import AppReport, RouteReport
from fastapi_boundary._audit.routes import inspect_route, route_is_clean
from fastapi_boundary._common.modes import Mode
from fastapi_boundary._common.violations import Rule, Violation
from tests.helpers import ROOT, line_of
from tests.samples.fake_async import (
    app_wide,
    controllers,
    db,
    engines,
    helpers,
    tasks,
    unannotated,
)

SAMPLES = ROOT / "tests" / "samples" / "fake_async"


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # sites are relative to the working directory


def at(module: str, needle: str, within: Callable[..., Any] | None = None) -> str:
    """``tests/samples/fake_async/module.py:N``: the first line with ``needle`` (in ``within``)."""
    where: Any = within if within is not None else SAMPLES / f"{module}.py"
    return f"tests/samples/fake_async/{module}.py:{line_of(where, needle)}"


def routes(report: AppReport) -> dict[str, RouteReport]:
    return {route.label: route for route in report.routes}


def r5(route: RouteReport) -> list[Violation]:
    return [v for v in route.violations if v.rule is Rule.R5]


def only_r5(report: AppReport, label: str) -> Violation:
    (violation,) = r5(routes(report)[label])
    return violation


# --- the shapes ------------------------------------------------------------------------------


def test_an_unannotated_depends_is_what_its_provider_yields() -> None:
    report = check_app(unannotated.app)
    found = only_r5(report, "POST /unannotated")
    assert found.cause_chain == (
        f"unannotated ({at('unannotated', 'async def unannotated(')})",
        f"Session.commit ({at('unannotated', 'session.commit()')})",
    )
    assert found.cause_summary == (
        f"async endpoint unannotated ({at('unannotated', 'async def unannotated(')}) blocks the "
        f"event loop: it calls Session.commit, a blocking db call, at "
        f"{at('unannotated', 'session.commit()')}"
    )
    assert found.fix == (
        "use `AsyncSession`/`AsyncConnection` in an async layer, or keep the layer sync and make "
        "the endpoint `def`, or make unannotated a plain def"
    )
    assert found.other is not None
    assert (found.other.name, found.other.site.file) == (
        "sqlalchemy.orm.session.Session.commit",
        "sqlalchemy.orm.session",
    )
    plain = only_r5(report, "GET /plain")  # session = SessionLocal(); try: yield session
    assert plain.cause_chain[-1] == f"Session.scalars ({at('unannotated', 'session.scalars(')})"
    assert r5(routes(report)["POST /async"]) == []  # session.add is sync but no I/O; awaited
    assert report.coverage is not None and report.coverage.complete


def test_a_helper_one_or_two_calls_deeper() -> None:
    report = check_app(helpers.app)
    found = only_r5(report, "POST /via_helper")
    assert found.cause_chain == (
        f"via_helper ({at('helpers', 'async def via_helper(')})",
        f"helper ({at('helpers', 'helper(session)', helpers.via_helper)})",
        f"Session.commit ({at('helpers', 'session.commit()')})",
    )
    assert found.cause_summary.endswith(
        f"it calls helper at {at('helpers', 'helper(session)', helpers.via_helper)}, which calls "
        "Session.commit, "
        f"a blocking db call, at {at('helpers', 'session.commit()')}"
    )
    assert found.fix == (
        "helper calls Session.commit, which blocks: offload it: `await run_blocking(helper, ...)`"
        ", or make via_helper a plain def"
    )
    render = only_r5(report, "POST /via_render")
    assert [link.split(" (")[0] for link in render.cause_chain] == [
        "via_render",
        "render",
        "subprocess.check_output",
    ]
    assert render.other is not None and render.other.role == "blocking subprocess call"
    deep = only_r5(report, "POST /two_deep")  # an unannotated helper: the argument's type
    assert [link.split(" (")[0] for link in deep.cause_chain] == [
        "two_deep",
        "deeper",
        "helper",
        "Session.commit",
    ]


@pytest.mark.parametrize(
    "label",
    [
        "POST /offloaded",  # await run_blocking(save_item, ...)
        "POST /to_thread",  # anyio.to_thread.run_sync
        "POST /asyncio_thread",  # asyncio.to_thread
        "POST /executor",  # loop.run_in_executor
        "POST /threadpool",  # starlette's run_in_threadpool
        "POST /in_a_lambda",  # a lambda handed to the offload
        "POST /nested_def",  # a nested def handed to the offload
    ],
)
def test_offloaded_twins_are_not_on_the_loop(label: str) -> None:
    assert routes(check_app(helpers.app))[label].violations == []


def test_request_state_set_by_middleware() -> None:
    report = check_app(app_wide.wrong)
    found = only_r5(report, "POST /state")
    assert found.cause_chain == (
        f"state ({at('app_wide', '@wrong.post(')})",  # a function's site: its first decorator
        f"Session.commit ({at('app_wide', 'request.state.db.commit()')})",
    )
    right = check_app(app_wide.right)  # the middleware opens an AsyncSession: awaited
    assert right.violations == []
    assert right.coverage is not None and right.coverage.complete


def test_engines_and_inspectors() -> None:
    report = check_app(engines.app)
    inspector = only_r5(report, "GET /inspector")  # inspect(make_engine(...)): no annotations
    assert inspector.cause_chain[-1] == (
        f"Inspector.get_schema_names ({at('engines', '.get_schema_names()')})"
    )
    module_engine = r5(routes(report)["GET /module_engine"])  # the live module-level engine
    assert [v.cause_chain[-1].split(" (")[0] for v in module_engine] == [
        "Engine.connect",
        "Connection.execute",
    ]
    assert routes(report)["GET /async_module_engine"].violations == []
    assert routes(report)["GET /async_inspector"].violations == []  # run_sync: a greenlet


def test_class_based_views_and_held_sessions() -> None:
    report = check_app(controllers.app)
    view = routes(report)["GET /controller"].violations
    assert [(v.rule.code, v.cause_chain[-1].split(" (")[0]) for v in view] == [
        ("R3", "Session"),
        ("R5", "Session.scalars"),
    ]
    structural, call = view
    assert structural.cause_chain == ("Controller.list", "Controller", "get_session", "Session")
    assert "held by Controller" in structural.cause_summary
    assert structural.fix.startswith("Session is a sync SQLAlchemy Session; its async counterpart")
    assert call.cause_chain[0] == f"Controller.list ({at('controllers', 'async def list(self: ')})"
    bound = routes(report)["GET /bound"].violations  # Controller(session).count: a live self
    assert [v.cause_chain for v in bound if v.rule is Rule.R3] == [
        ("BoundController.count", "BoundController", "Session")
    ]
    assert [v.cause_chain[-1].split(" (")[0] for v in r5(routes(report)["GET /bound"])] == [
        "Session.scalar"
    ]
    names = routes(report)["GET /names"].violations  # def get_store(...) -> ItemStore
    assert [v.cause_chain for v in names if v.rule is Rule.R3] == [
        ("names", "get_store", "ItemStore", "Session")
    ]
    (call,) = r5(routes(report)["GET /names"])
    assert [link.split(" (")[0] for link in call.cause_chain] == [
        "names",
        "ItemStore.names",
        "Session.scalars",
    ]
    assert routes(report)["GET /async-controller"].violations == []
    assert routes(report)["GET /async-names"].violations == []


def test_the_fast_path_agrees_on_held_drivers() -> None:
    """A declared router's yes/no check sees what the full report of a held driver says."""
    checked = 0
    for route in controllers.app.routes:
        report = inspect_route(route) if hasattr(route, "dependant") else None
        if report is None:
            continue
        held = [v for v in report.violations if v.rule is Rule.R3]
        assert route_is_clean(route, Mode.ASYNC) is (not held), report.label
        checked += 1
    assert checked == 5


def test_background_tasks_websockets_and_cpu_work() -> None:
    report = check_app(tasks.app)
    task = only_r5(report, "POST /register")
    assert task.subject.role == "background task"
    assert task.subject.name == "notify"
    assert [link.split(" (")[0] for link in task.cause_chain][:2] == ["notify", "send_mail"]
    assert task.fix.endswith("or make notify a plain def")
    hashed = only_r5(report, "POST /hash_password")
    assert hashed.cause_chain[-1].split(" (")[0] == "bcrypt.hashpw"
    assert hashed.fix.startswith("run it in a worker process")
    live = only_r5(report, "WEBSOCKET /live")
    assert live.subject.role == "async endpoint"
    for label in ("POST /register_sync_task", "POST /register_offloaded", "POST /hash_offloaded"):
        assert routes(report)[label].violations == [], label


def test_middleware_lifespan_and_handlers_are_app_findings() -> None:
    report = check_app(app_wide.wrong)
    found = {(v.subject.role, v.subject.name): v for v in report.layer_violations}
    assert set(found) == {
        ("lifespan", "lifespan"),
        ("middleware", "AuditMiddleware.dispatch"),
        ("middleware", "ResolveMiddleware.__call__"),
        ("exception handler", "on_lookup_error"),
    }
    audit = found["middleware", "AuditMiddleware.dispatch"]
    assert report.layer_routes[audit] == ["POST /state"]  # middleware runs for every route
    assert audit.fix == (
        "write_audit calls open, which blocks: offload it: `await run_blocking(write_audit, ...)`"
    )  # a middleware cannot be a def
    lifespan = found["lifespan", "lifespan"]
    assert report.layer_routes[lifespan] == []  # it runs for the app, before any route
    handler = found["exception handler", "on_lookup_error"]
    assert handler.fix.endswith("or make on_lookup_error a plain def")
    finding = next(
        f for f in group_findings(report) if f.subject.name == "ResolveMiddleware.__call__"
    )
    assert finding.chain[-1] == f"socket.gethostbyname ({at('app_wide', 'gethostbyname(')})"


# --- what makes a call blocking -------------------------------------------------------------


@cpu_bound
def crunch() -> int:
    return 1


@blocking
def fetch() -> int:
    return 1


class Repository(SyncRepository):
    def get(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return 1


class Notifier(AsyncService):
    async def send(self) -> int:
        return fetch()  # an async layer's method is on the loop too


async def uses_layers(repo: Repository = Depends()) -> int:
    return repo.get() + repo.size + crunch()


async def notify(notifier: Notifier = Depends()) -> int:
    return await notifier.send()


def test_sync_layers_and_marked_functions_called_on_the_loop() -> None:
    app = FastAPI()
    app.add_api_route("/layer", uses_layers)
    app.add_api_route("/notify", notify)
    report = check_app(app)
    found = [(v.cause_chain[-1].split(" (")[0], v.fix) for v in r5(routes(report)["GET /layer"])]
    assert found == [  # a property is read, not called: not reported
        (
            "Repository.get",
            "offload it: `await run_blocking(repo.get, ...)` or use `to_async(repo)`, or make "
            "uses_layers a plain def",
        ),
        (
            "crunch",
            "run it in a worker process: `await run_cpu(crunch, ...)`, or make uses_layers a "
            "plain def",
        ),
    ]
    (send,) = r5(routes(report)["GET /notify"])
    assert (send.subject.role, send.subject.name) == ("async method", "Notifier.send")
    assert send.fix == "offload it: `await run_blocking(fetch, ...)`"  # a layer's: stays async


@layer("async")
class Store:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self) -> int:
        self.session.add(db.Item(name="x"))  # sync, but no I/O: not in the catalogue
        return int((await self.session.execute(text("select 1"))).scalar_one())


async def get_store(session: AsyncSession = Depends(db.get_async_session)) -> Store:
    return Store(session)


async def count_items(store: Store = Depends(get_store)) -> int:
    return await store.count()


def test_an_async_call_is_awaited_not_blocking() -> None:
    app = FastAPI()
    app.add_api_route("/count", count_items)
    report = check_app(app)
    assert report.violations == []
    assert report.coverage is not None and report.coverage.complete


def test_a_recursive_helper_is_followed_once() -> None:
    def walk(session: Any, depth: int) -> None:
        if depth:
            walk(session, depth - 1)
        session.commit()

    async def endpoint(session=Depends(db.get_session)) -> None:  # type: ignore[no-untyped-def]
        walk(session, 3)

    app = FastAPI()
    app.add_api_route("/walk", endpoint)
    (found,) = r5(routes(check_app(app))["GET /walk"])
    assert [link.split(" (")[0] for link in found.cause_chain] == [
        "endpoint",
        "walk",
        "Session.commit",
    ]


def test_fingerprints_do_not_move_with_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "from fastapi import FastAPI\n"
        "import subprocess\n"
        "{padding}"
        "def render() -> str:\n"
        "    return subprocess.check_output(['true']).decode()\n"
        "async def page() -> str:\n"
        "    return render()\n"
        "app = FastAPI()\n"
        "app.add_api_route('/page', page)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    fingerprints = []
    for name, padding in (("moved_a", ""), ("moved_b", "# a comment\n" * 5)):
        (tmp_path / "pages.py").write_text(source.format(padding=padding))
        import importlib
        import sys

        sys.modules.pop("pages", None)
        importlib.invalidate_caches()
        module = importlib.import_module("pages")
        (finding,) = group_findings(check_app(module.app))
        fingerprints.append(finding.fingerprint)
        del name
    assert fingerprints[0] == fingerprints[1]


# --- the apps are real: the sessions work ---------------------------------------------------


def served(app: FastAPI, requests: list[tuple[str, str]]) -> list[int]:
    with TestClient(app) as client:
        return [client.request(method, url).status_code for method, url in requests]


def test_the_samples_serve_requests_over_real_sessions() -> None:
    assert served(app_wide.right, [("POST", "/state")]) == [200]  # AsyncSession on aiosqlite
    assert served(helpers.app, [("POST", "/offloaded"), ("POST", "/via_helper")]) == [200, 200]
    assert served(controllers.app, [("GET", "/controller"), ("GET", "/names")]) == [200, 200]
    assert served(engines.app, [("GET", "/module_engine")]) == [200]
    assert served(tasks.app, [("POST", "/hash_offloaded?password=x")]) == [200]


def test_check_app_never_crashes_on_odd_code(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec("async def generated(session=None):\n    session.commit()\n", namespace)
    odd: Callable[..., Any] = namespace["generated"]
    app = FastAPI()
    app.add_api_route("/generated", odd)
    report = check_app(app)
    assert report.violations == []
    assert report.coverage is not None
    assert not report.coverage.complete
    assert report.coverage.not_analysed == {"generated (<string>:1)": "no source"}
