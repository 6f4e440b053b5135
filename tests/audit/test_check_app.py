"""check_app audits any app, marked or not, and never crashes on odd callables."""

from __future__ import annotations

import functools
import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket
from fastapi.security import HTTPBearer, OAuth2PasswordBearer
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from fastapi_boundary import (
    AsyncService,
    BoundaryError,
    Mode,
    SyncRepository,
    SyncRouter,
    SyncService,
    check_app,
)
from fastapi_boundary._audit.render import render_github, render_json, render_table
from tests.helpers import NEEDS_METHOD_ANNOTATIONS

oauth2 = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
bearer = HTTPBearer(auto_error=False)


class Repo(SyncRepository):
    def get(self) -> int:
        return 1


class Service(SyncService):
    def __init__(self, repo: Annotated[Repo, Depends()]) -> None:
        self.repo = repo

    def get(self) -> int:
        return self.repo.get()


def get_service(repo: Annotated[Repo, Depends()]) -> Service:
    return Service(repo)


def session() -> Iterator[str]:
    yield "session"


class CallableDependency:
    def __call__(self, request: Request) -> str:
        return "x"


def factory(prefix: str) -> Any:
    async def closure() -> str:
        return prefix

    return closure


def _with_value(value: int) -> int:
    return value


def _generated() -> Any:
    namespace: dict[str, Any] = {}
    exec("def generated():\n    return 1\n", namespace)
    return namespace["generated"]


def _logged(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


@_logged
def wrapped_dependency() -> int:
    return 1


def build_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/api", dependencies=[Depends(oauth2)])

    @router.get("/books")
    async def list_books(
        service: Annotated[Service, Depends(get_service)],
        token: Annotated[Any, Depends(bearer)],
        db: Annotated[str, Depends(session)],
    ) -> int:
        return 0

    @router.get("/things/{thing_id}")
    def get_thing(
        thing_id: int,
        a: Annotated[str, Depends(CallableDependency())],
        b: Annotated[str, Depends(factory("p"))],
        c: Annotated[int, Depends(functools.partial(_with_value, 3))],
        d: Annotated[int, Depends(_generated())],
        e: Annotated[int, Depends(wrapped_dependency)],
        f: Annotated[int, Depends(functools.lru_cache(_with_value))],
    ) -> int:
        return thing_id

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None: ...

    app.include_router(router)
    sub = FastAPI()

    @sub.get("/ping")
    def ping(service: Annotated[Service, Depends(get_service)]) -> int:
        return 1

    app.mount("/sub", sub)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent)), name="static")
    app.router.routes.append(Route("/plain", lambda request: PlainTextResponse("x")))
    return app


@NEEDS_METHOD_ANNOTATIONS
def test_report_covers_every_kind_of_route_and_dependency() -> None:
    report = check_app(build_app())
    by_label = {route.label: route for route in report.routes}
    assert set(by_label) == {
        "GET /api/books",
        "GET /api/things/{thing_id}",
        "WEBSOCKET /api/ws",
        "GET /sub/ping",
        "GET,HEAD /plain",
    }
    (static,) = report.mounts  # a mounted app the audit cannot look into: not a route
    assert static.path == "/static" and static.note is not None and "not a router" in static.note
    books = by_label["GET /api/books"]
    assert books.mode is Mode.ASYNC and books.declared_mode is None
    names = [node.call for node in books.endpoint.walk()] if books.endpoint else []
    assert names[0] == "list_books"
    assert "OAuth2PasswordBearer instance" in names and "HTTPBearer instance" in names
    (violation,) = books.violations
    assert violation.rule.code == "R3"
    assert "async endpoint list_books" in violation.summary
    assert "sync service Service" in violation.summary
    assert violation.chain == ("GET /api/books", "list_books", "get_service", "Service")
    thing = by_label["GET /api/things/{thing_id}"]
    assert thing.violations == []
    modes = {node.name: node.mode for node in thing.endpoint.walk()} if thing.endpoint else {}
    assert modes["a"] is Mode.SYNC and modes["b"] is Mode.ASYNC
    assert modes["c"] is Mode.SYNC and modes["d"] is Mode.SYNC and modes["e"] is Mode.SYNC
    assert by_label["GET /sub/ping"].mode is Mode.SYNC
    assert len(report.violations) == 1
    assert report.summary() == "5 routes, 1 violation, 1 mounted app not inspected"


def test_docs_routes_are_left_out() -> None:
    app = FastAPI()
    assert check_app(app).routes == []


def test_thread_hops_count_sync_calls_once_and_generators_twice() -> None:
    app = FastAPI()

    @app.get("/hops")
    def hops(
        service: Annotated[Service, Depends(get_service)],
        again: Annotated[Service, Depends(get_service)],
        db: Annotated[str, Depends(session)],
    ) -> int:
        return 1

    (route,) = check_app(app).routes
    # endpoint + get_service + Repo (class) + session (generator: setup and teardown)
    # + the validation of the returned int (a def endpoint with a response model)
    assert route.thread_hops == 1 + 1 + 1 + 2 + 1


@NEEDS_METHOD_ANNOTATIONS
def test_renderers_agree() -> None:
    report = check_app(build_app())
    table = render_table(report)
    assert "GET /api/books  async  hops=" in table
    assert "#1 R3 same-mode-dependencies: async endpoint list_books" in table
    assert table.splitlines()[0] == "1 finding affecting 1 of 5 routes; 1 mounted app not inspected"
    assert table.rstrip().endswith("\n\n" + table.splitlines()[0])
    data = json.loads(render_json(report))
    assert data["ok"] is False
    assert data["findings"][0]["rule"] == "R3"
    assert data["findings"][0]["subject"]["file"].endswith("test_check_app.py")
    github = render_github(report).splitlines()
    assert github[0].startswith("::error file=tests/audit/test_check_app.py,line=")
    assert "title=fastapi-boundary R3 same-mode-dependencies::" in github[0]
    assert "%0A  fix: " in github[0]
    assert github[-1].startswith("::notice title=fastapi-boundary::")


def test_routers_and_starlette_apps_are_accepted() -> None:
    router = SyncRouter()

    @router.get("/x")
    def x() -> int:
        return 1

    assert [route.label for route in check_app(router).routes] == ["GET /x"]
    starlette = Starlette(routes=[Mount("/m", routes=[Route("/r", lambda request: None)])])
    assert [route.path for route in check_app(starlette).routes] == ["/m/r"]


def test_check_app_rejects_what_is_not_an_app() -> None:
    with pytest.raises(BoundaryError, match="needs a FastAPI or Starlette app"):
        check_app(42)  # type: ignore[arg-type]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [name for name in sys.modules if name == "shop" or name.startswith("shop.")]:
        del sys.modules[name]


def _write(package: Path, name: str, source: str) -> None:
    (package / f"{name}.py").write_text(textwrap.dedent(source))


def _app_using(layer_class: type) -> FastAPI:
    """An app whose one route gets ``layer_class`` from a provider."""

    async def provide() -> Any:
        raise NotImplementedError

    provide.__annotations__ = {"return": layer_class}
    app = FastAPI()
    app.add_api_route("/uses", _async_endpoint_using(provide))
    return app


def _async_endpoint_using(provider: Any) -> Any:
    async def uses(value: Any = Depends(provider)) -> None:
        return None

    return uses


def test_layers_outside_the_app_are_not_reported(package: Path) -> None:
    _write(
        package,
        "elsewhere",
        """
        from __future__ import annotations
        from fastapi_boundary import SyncService

        class Unused(SyncService):
            def __init__(self, client: NoSuchClient) -> None:
                self.client = client
        """,
    )
    importlib.import_module("shop.elsewhere")
    report = check_app(FastAPI())
    assert report.ok and report.notes == []


def test_type_checking_imports_are_resolved_by_name_at_check_time(package: Path) -> None:
    _write(
        package,
        "services",
        """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        from fastapi_boundary import AsyncService
        if TYPE_CHECKING:
            from shop.repos import Repository

        class Catalogue(AsyncService):
            def __init__(self, repo: Repository) -> None:
                self.repo = repo

            async def count(self) -> int:
                return 1
        """,
    )
    _write(
        package,
        "repos",
        """
        from fastapi_boundary import SyncRepository

        class Repository(SyncRepository):
            def count(self) -> int:
                return 1
        """,
    )
    services = importlib.import_module("shop.services")
    importlib.import_module("shop.repos")
    report = check_app(_app_using(services.Catalogue))
    (violation,) = report.violations
    assert "async service Catalogue" in violation.summary
    assert "sync repository Repository" in violation.summary


def test_unresolvable_names_are_reported_as_notes(package: Path) -> None:
    _write(
        package,
        "orphan",
        """
        from __future__ import annotations
        from fastapi_boundary import SyncService

        class Orphan(SyncService):
            def __init__(self, client: NoSuchClient) -> None:
                self.client = client
        """,
    )
    orphan = importlib.import_module("shop.orphan")
    report = check_app(_app_using(orphan.Orphan))
    (violation,) = report.violations  # an async endpoint using a sync service
    assert "sync service Orphan" in violation.summary
    (note,) = report.notes
    assert "Orphan" in note and "'NoSuchClient'" in note and "treated as not a layer" in note


def test_ambiguous_names_are_violations(package: Path) -> None:
    _write(
        package,
        "one",
        """
        from fastapi_boundary import SyncRepository

        class Store(SyncRepository):
            pass
        """,
    )
    _write(
        package,
        "two",
        """
        from fastapi_boundary import AsyncRepository

        class Store(AsyncRepository):
            pass
        """,
    )
    _write(
        package,
        "user",
        """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        from fastapi_boundary import AsyncService
        if TYPE_CHECKING:
            from shop.two import Store

        class UsesStore(AsyncService):
            store: Store
        """,
    )
    for name in ("one", "two", "user"):
        importlib.import_module(f"shop.{name}")
    user = sys.modules["shop.user"]
    (violation,) = check_app(_app_using(user.UsesStore)).violations
    assert "matches layers of both modes" in violation.summary
    assert "not only under TYPE_CHECKING" in violation.fix


class Notifier(AsyncService):
    async def send(self) -> None: ...


async def get_notifier() -> Notifier:
    return Notifier()


def test_a_provider_that_is_an_async_layer_in_an_unmarked_sync_route() -> None:
    app = FastAPI()
    app.add_api_route("/n", _endpoint_using(get_notifier), methods=["POST"])
    (violation,) = check_app(app).violations
    assert "sync endpoint" in violation.summary and "async service Notifier" in violation.summary


def _endpoint_using(provider: Any) -> Any:
    def notify(notifier: Any = Depends(provider)) -> None:
        return None

    return notify


def test_warn_mode_violations_still_appear_in_the_report() -> None:
    from fastapi_boundary import BoundaryWarning, configure

    configure("warn")
    with pytest.warns(BoundaryWarning) as warned:

        class Mixed(SyncService):
            async def fetch(self) -> int:
                return 1

    assert warned[0].filename == __file__  # attributed to the class statement
    configure("off")

    class Silent(SyncRepository):
        async def fetch(self) -> int:
            return 1

    report = check_app(_app_using(Mixed))
    rules = sorted(v.rule.code for v in report.violations)
    assert rules == ["R2", "R3"]  # the method, and an async endpoint over a sync service
    assert "Mixed.fetch" in report.layer_violations[0].summary
    assert check_app(_app_using(Silent)).layer_violations != []
