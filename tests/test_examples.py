"""The bundled examples: both bookshops over HTTP and under audit, the broken variant, the CLI."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    BoundaryError,
    BoundaryViolationsError,
    LayerDependencyError,
    Mode,
    ModeMismatchError,
    RouteModeError,
    Rule,
    check_app,
)
from fastapi_boundary.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
BROKEN_DIR = ROOT / "examples" / "broken"
if str(ROOT) not in sys.path:  # the examples package lives at the repository root
    sys.path.insert(0, str(ROOT))

BROKEN_APP = "examples.broken.main"


@dataclass(frozen=True)
class Shop:
    package: str
    mode: Mode

    @property
    def module(self) -> str:
        return f"{self.package}.main"


SYNC = Shop("examples.sync_bookshop", Mode.SYNC)
ASYNC = Shop("examples.async_bookshop", Mode.ASYNC)
SHOPS = [pytest.param(SYNC, id="sync"), pytest.param(ASYNC, id="async")]


def import_fresh(name: str) -> ModuleType:
    """Import ``name`` anew, so that its import-time checks run again."""
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def app_of(module: str) -> FastAPI:
    app = importlib.import_module(module).app
    assert isinstance(app, FastAPI)
    return app


@pytest.fixture(params=SHOPS)
def shop(request: pytest.FixtureRequest) -> Shop:
    param: Shop = request.param
    return param


@pytest.fixture
def client(shop: Shop) -> Iterator[TestClient]:
    """The shop, started (its lifespan creates the tables) on a fresh in-memory database."""
    with TestClient(app_of(shop.module)) as client:
        yield client


def call(client: TestClient, method: str, path: str, status: int, body: Any = None) -> Any:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def add_author(client: TestClient, name: str) -> int:
    author = call(client, "POST", "/authors", 201, {"name": name})
    assert author["name"] == name
    return int(author["id"])


def add_book(client: TestClient, author_id: int, title: str, price: int, stock: int) -> int:
    body = {"title": title, "author_id": author_id, "price_cents": price, "stock": stock}
    book = call(client, "POST", "/books", 201, body)
    assert book == {"id": book["id"], **body}
    return int(book["id"])


# --- both shops over HTTP ------------------------------------------------------------------


def test_create_list_and_get_authors_and_books(client: TestClient) -> None:
    le_guin = add_author(client, "Ursula K. Le Guin")
    pratchett = add_author(client, "Terry Pratchett")
    dispossessed = add_book(client, le_guin, "The Dispossessed", 1299, 3)
    earthsea = add_book(client, le_guin, "A Wizard of Earthsea", 999, 5)
    mort = add_book(client, pratchett, "Mort", 899, 1)

    authors = call(client, "GET", "/authors", 200)
    assert authors == [
        {"id": le_guin, "name": "Ursula K. Le Guin"},
        {"id": pratchett, "name": "Terry Pratchett"},
    ]
    assert call(client, "GET", f"/authors/{pratchett}", 200) == authors[1]
    assert [book["id"] for book in call(client, "GET", "/books", 200)] == [
        dispossessed,
        earthsea,
        mort,
    ]
    by_le_guin = call(client, "GET", f"/books?author_id={le_guin}", 200)
    assert [book["title"] for book in by_le_guin] == ["The Dispossessed", "A Wizard of Earthsea"]
    assert call(client, "GET", f"/books/{mort}", 200) == {
        "id": mort,
        "title": "Mort",
        "author_id": pratchett,
        "price_cents": 899,
        "stock": 1,
    }


def test_missing_things_are_404(client: TestClient) -> None:
    assert call(client, "GET", "/books/999", 404) == {"detail": "book 999 not found"}
    assert call(client, "GET", "/authors/999", 404) == {"detail": "author 999 not found"}
    assert call(client, "GET", "/books?author_id=999", 404) == {"detail": "author 999 not found"}
    orphan = {"title": "Orphan", "author_id": 999, "price_cents": 100, "stock": 1}
    assert call(client, "POST", "/books", 404, orphan) == {"detail": "author 999 not found"}
    assert call(client, "GET", "/books", 200) == []  # the refused book was not created
    order = {"book_id": 999, "quantity": 1}
    assert call(client, "POST", "/orders", 404, order) == {"detail": "book 999 not found"}


def test_orders_take_copies_out_of_stock_but_never_more_than_there_are(
    client: TestClient,
) -> None:
    book = add_book(client, add_author(client, "Italo Calvino"), "Invisible Cities", 1250, 3)

    order = call(client, "POST", "/orders", 201, {"book_id": book, "quantity": 2})
    assert order == {"id": order["id"], "book_id": book, "quantity": 2, "total_cents": 2500}
    assert call(client, "GET", f"/books/{book}", 200)["stock"] == 1

    refused = call(client, "POST", "/orders", 409, {"book_id": book, "quantity": 2})
    assert refused == {"detail": "only 1 copy of 'Invisible Cities' in stock; 2 ordered"}
    assert call(client, "GET", f"/books/{book}", 200)["stock"] == 1

    last = call(client, "POST", "/orders", 201, {"book_id": book, "quantity": 1})
    assert last["total_cents"] == 1250 and last["id"] != order["id"]
    assert call(client, "GET", f"/books/{book}", 200)["stock"] == 0
    sold_out = call(client, "POST", "/orders", 409, {"book_id": book, "quantity": 1})
    assert sold_out == {"detail": "only 0 copies of 'Invisible Cities' in stock; 1 ordered"}


def test_invalid_input_is_422(client: TestClient) -> None:
    book = add_book(client, add_author(client, "Anonymous"), "Beowulf", 500, 2)
    call(client, "POST", "/orders", 422, {"book_id": book, "quantity": 0})
    call(client, "POST", "/books", 422, {"title": "", "author_id": 1, "price_cents": 1})
    call(client, "POST", "/books", 422, {"title": "Cheap", "author_id": 1, "price_cents": -1})
    call(client, "POST", "/authors", 422, {"name": ""})
    assert call(client, "GET", f"/books/{book}", 200)["stock"] == 2


def test_each_start_gets_a_fresh_in_memory_database(shop: Shop) -> None:
    app = app_of(shop.module)
    for _ in range(2):  # the lifespan disposes the engine, and with it the in-memory database
        with TestClient(app) as client:
            assert call(client, "GET", "/authors", 200) == []
            assert add_author(client, "Jorge Luis Borges") == 1


# --- both shops under audit ----------------------------------------------------------------

CATALOG = {"CatalogService", "AuthorRepository", "BookRepository"}
ORDERS = {"OrderService", "BookRepository", "OrderRepository"}
EXPECTED_LAYERS = {
    "POST /authors": CATALOG,
    "GET /authors": CATALOG,
    "GET /authors/{author_id}": CATALOG,
    "POST /books": CATALOG,
    "GET /books": CATALOG,
    "GET /books/{book_id}": CATALOG,
    "POST /orders": ORDERS,
}


def test_shop_audit_is_clean_and_of_one_mode(shop: Shop) -> None:
    report = check_app(app_of(shop.module))

    assert report.ok, report.violations
    assert report.notes == []
    assert report.summary() == "7 routes, 0 violations"
    assert {route.label for route in report.routes} == set(EXPECTED_LAYERS)
    for route in report.routes:
        assert route.mode is shop.mode, route.label
        assert route.declared_mode is shop.mode, route.label
        assert route.endpoint is not None
        nodes = route.endpoint.walk()
        assert all(node.mode is shop.mode for node in nodes), route.label
        drivers = [node for node in nodes if node.layer and node.layer.kind == "driver"]
        layers = [node for node in nodes if node.layer and node.layer.kind != "driver"]
        assert {node.layer_name for node in layers} == EXPECTED_LAYERS[route.label]
        # the session dependency is recognised as the driver of the shop's mode
        assert {node.call for node in drivers} == {"get_session"}
        expected_driver = "Session" if shop.mode is Mode.SYNC else "AsyncSession"
        assert {node.layer_name for node in drivers} == {expected_driver}
        assert all(node.layer is not None and node.layer.mode is shop.mode for node in drivers)
        for node in layers:
            assert node.layer is not None and node.layer.mode is shop.mode
            assert node.provides, f"{node.call} provides {node.layer_name}"
            name = node.layer_name or ""
            assert node.layer.kind == ("service" if name.endswith("Service") else "repository")
            assert node.layer_owner.__module__.startswith(shop.package)  # its own layers
        assert "get_session" in {node.call for node in nodes}
        if shop.mode is Mode.ASYNC:
            assert route.thread_hops == 0, route.label
        else:  # endpoint, 1 service and 2 repository providers, the session's setup and teardown
            assert route.thread_hops == 6, route.label


# --- the broken variant --------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    module: str
    error: type[BoundaryError]
    rule: Rule
    subject: str
    other: str
    line_marker: str  # the source line the error must point at
    words: tuple[str, ...]


MISTAKES = [
    Mistake(
        "fake_async_repository",
        ModeMismatchError,
        Rule.R2,
        "BookRepository.get",
        "BookRepository",
        "async def get(",
        ("is an async def", "sync repository", "make get a plain def"),
    ),
    Mistake(
        "sync_method_in_async_service",
        ModeMismatchError,
        Rule.R2,
        "PricingService.is_available",
        "PricingService",
        "def is_available(",
        ("is a plain def", "async service", "@pure"),
    ),
    Mistake(
        "async_service_over_sync_repository",
        LayerDependencyError,
        Rule.R3,
        "CatalogService",
        "BookRepository",
        "class CatalogService(",
        (
            "async service CatalogService",
            "depends on sync repository BookRepository",
            "parameter 'books' of CatalogService.__init__",
            "sync_bookshop/repositories.py:",
        ),
    ),
    Mistake(
        "sync_router_async_endpoint",
        RouteModeError,
        Rule.R2,
        "get_book",
        "SyncRouter",
        "@router.get(",  # a decorated function's first line is its decorator's
        ("endpoint get_book", "GET /books/{book_id}", "is an async def", "SyncRouter (sync)"),
    ),
    Mistake(
        "async_router_sync_service",
        RouteModeError,
        Rule.R3,
        "get_book",
        "CatalogService",
        "@router.get(",
        (
            "async endpoint get_book",
            "depends on sync service CatalogService",
            "provided by get_catalog_service",
            "get_book -> get_catalog_service -> CatalogService",
        ),
    ),
]


def line_of(path: Path, marker: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if marker in line)


@pytest.mark.parametrize("mistake", [pytest.param(m, id=m.module) for m in MISTAKES])
def test_each_broken_module_raises_on_import(mistake: Mistake) -> None:
    name = f"examples.broken.{mistake.module}"
    with pytest.raises(mistake.error) as caught:
        import_fresh(name)

    assert name not in sys.modules  # a failed import leaves nothing half-made behind
    message = str(caught.value)
    assert message.startswith(f"{mistake.rule.code} {mistake.rule.slug}: ")
    for words in (mistake.subject, mistake.other, *mistake.words):
        assert words in message
    assert "\n  fix: " in message
    assert f"\n  docs: {mistake.rule.docs_url}" in message
    (violation,) = caught.value.violations
    assert violation.rule is mistake.rule
    assert violation.subject.name == mistake.subject
    assert violation.other is not None and violation.other.name == mistake.other
    path = BROKEN_DIR / f"{mistake.module}.py"
    assert Path(violation.site.file).resolve() == path
    assert violation.site.line == line_of(path, mistake.line_marker)
    assert f"{mistake.module}.py:{violation.site.line}" in message


def test_every_broken_module_is_covered_and_has_a_docstring() -> None:
    modules = {path.stem for path in BROKEN_DIR.glob("*.py")} - {"__init__", "__main__"}
    assert modules == {m.module for m in MISTAKES} | {"main"}
    for module in modules:
        source = (BROKEN_DIR / f"{module}.py").read_text()
        assert source.startswith('"""') and "Fix:" in source, module


def test_the_broken_package_itself_imports_nothing_broken() -> None:
    for mistake in MISTAKES:
        sys.modules.pop(f"examples.broken.{mistake.module}", None)
    import_fresh("examples.broken")
    assert not any(f"examples.broken.{m.module}" in sys.modules for m in MISTAKES)


def test_broken_main_imports_but_its_audit_reports_exactly_the_mistake() -> None:
    app = import_fresh(BROKEN_APP).app
    report = check_app(app)

    assert report.summary() == "2 routes, 1 violation"
    (violation,) = report.violations
    assert violation.rule is Rule.R3
    assert violation.subject.name == "book_availability"
    assert violation.subject.mode is Mode.ASYNC
    assert violation.other is not None
    assert (violation.other.name, violation.other.mode) == ("CatalogService", Mode.SYNC)
    assert violation.chain == (
        "GET /books/{book_id}/availability",
        "book_availability",
        "get_catalog_service",
        "CatalogService",
    )
    assert violation.site.line == line_of(BROKEN_DIR / "main.py", "/availability")
    routes = {route.label: route for route in report.routes}
    assert routes["GET /books/{book_id}/availability"].violations == [violation]
    fine = routes["GET /books/{book_id}"]
    assert fine.violations == [] and fine.mode is Mode.SYNC and fine.declared_mode is None


def test_broken_main_refuses_to_start() -> None:
    app = import_fresh(BROKEN_APP).app
    with pytest.raises(BoundaryViolationsError) as caught, TestClient(app):
        pytest.fail("the app started")  # pragma: no cover
    assert "refusing to start" in str(caught.value)
    assert [v.subject.name for v in caught.value.violations] == ["book_availability"]


# --- the command line ----------------------------------------------------------------------


def check(capsys: pytest.CaptureFixture[str], target: str, *args: str) -> tuple[int, str, str]:
    status = cli_main(["check", target, "--app-dir", str(ROOT), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_passes_each_shop(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, f"{shop.module}:app")
    assert status == 0, out
    assert f"POST /orders  {shop.mode.value} (declared)" in out
    assert out.rstrip().endswith("7 routes, 0 violations")

    status, out, _ = check(capsys, f"{shop.module}:app", "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["ok"] is True and data["violations"] == []
    assert {route["mode"] for route in data["routes"]} == {shop.mode.value}


def test_cli_fails_the_broken_app(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, f"{BROKEN_APP}:app")
    assert status == 1
    assert "R3 same-mode-dependencies: async endpoint book_availability" in out
    assert out.rstrip().endswith("2 routes, 1 violation")

    status, out, _ = check(capsys, f"{BROKEN_APP}:app", "--format", "json")
    assert status == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert [(v["rule"], v["subject"]["name"]) for v in data["violations"]] == [
        ("R3", "book_availability")
    ]

    status, out, _ = check(capsys, f"{BROKEN_APP}:app", "--format", "github")
    assert status == 1
    assert out.startswith("::error file=") and "main.py,line=" in out


def test_cli_fails_a_module_that_raises_on_import(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = check(capsys, "examples.broken.fake_async_repository:app")
    assert status == 1  # a violation, not a load error (2)
    assert "ModeMismatchError" in err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FASTAPI_BOUNDARY_MODE": "strict"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "status"),
    [("examples.sync_bookshop.main", 0), ("examples.async_bookshop.main", 0), (BROKEN_APP, 1)],
)
def test_cli_in_a_subprocess(module: str, status: int) -> None:
    result = _run("-m", "fastapi_boundary", "check", f"{module}:app", "--format", "json")
    assert result.returncode == status, result.stderr
    assert json.loads(result.stdout)["ok"] is (status == 0)


def test_python_dash_m_examples_broken_shows_every_mistake() -> None:
    result = _run("-m", "examples.broken")
    assert result.returncode == 1, result.stdout + result.stderr
    for mistake in MISTAKES:
        assert f"$ import examples.broken.{mistake.module}\n" in result.stdout
        assert f"  {mistake.error.__name__}:\n    {mistake.rule.code} " in result.stdout
    assert "async endpoint book_availability" in result.stdout
    assert result.stdout.rstrip().endswith(f"all {len(MISTAKES) + 1} mistakes caught")
