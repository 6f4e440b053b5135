"""The bundled examples: both bookshops over HTTP and under audit, the broken variant, the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    AsyncProxy,
    BoundaryError,
    BoundaryViolationsError,
    LayerDependencyError,
    Mode,
    ModeMismatchError,
    ProcessTargetError,
    RouteModeError,
    Rule,
    check_app,
    default_process_pool,
    is_cpu_bound,
    run_blocking,
    run_cpu,
)
from fastapi_boundary.cli import main as cli_main
from tests.helpers import NEEDS_DEPENDS_SCOPE, ROOT, line_of, run_python

pytestmark = NEEDS_DEPENDS_SCOPE

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
def receipts_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the shops started by a test keep their receipts (read at start-up)."""
    directory = tmp_path / "receipts"
    monkeypatch.setenv("BOOKSHOP_RECEIPTS_DIR", str(directory))
    return directory


@pytest.fixture
def client(shop: Shop, receipts_dir: Path) -> Iterator[TestClient]:
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


def place_order(client: TestClient) -> tuple[int, int]:
    """An order of 2 copies of a book that has 3: (order id, book id)."""
    book = add_book(client, add_author(client, "Italo Calvino"), "Invisible Cities", 1250, 3)
    order = call(client, "POST", "/orders", 201, {"book_id": book, "quantity": 2})
    return int(order["id"]), book


def receipt_of(order_id: int, book_id: int) -> str:
    return (
        f"Bookshop receipt\norder: {order_id}\nbook: Invisible Cities (#{book_id})\n"
        f"quantity: 2\nunit price: 12.50\ntotal: 25.00\n"
    )


def test_each_order_leaves_a_receipt_file(client: TestClient, receipts_dir: Path) -> None:
    order, book = place_order(client)
    response = client.get(f"/orders/{order}/receipt")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == receipt_of(order, book)
    # on disk, in the directory BOOKSHOP_RECEIPTS_DIR named (created at start-up)
    assert sorted(path.name for path in receipts_dir.iterdir()) == [f"order-{order}.txt"]
    assert (receipts_dir / f"order-{order}.txt").read_text() == receipt_of(order, book)

    call(client, "POST", "/orders", 409, {"book_id": book, "quantity": 2})  # refused: no file
    assert len(list(receipts_dir.iterdir())) == 1
    assert call(client, "GET", "/orders/999/receipt", 404) == {"detail": "order 999 not found"}
    (receipts_dir / f"order-{order}.txt").unlink()
    no_file = call(client, "GET", f"/orders/{order}/receipt", 404)
    assert no_file == {"detail": f"no receipt for order {order}"}


def test_a_receipt_that_cannot_be_written_rolls_the_order_back(
    shop: Shop, receipts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from examples.bookshop_common.receipts import ReceiptArchive

    def disk_full(self: ReceiptArchive, order_id: int, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReceiptArchive, "write", disk_full)
    with TestClient(app_of(shop.module)) as client:
        book = add_book(client, add_author(client, "Italo Calvino"), "Invisible Cities", 1250, 3)
        with pytest.raises(OSError, match="No space left"):
            client.post("/orders", json={"book_id": book, "quantity": 2})
        assert call(client, "GET", f"/books/{book}", 200)["stock"] == 3
        assert call(client, "GET", "/orders/1/receipt", 404) == {"detail": "order 1 not found"}


def test_without_a_receipts_dir_a_temporary_one_lives_as_long_as_the_app(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOKSHOP_RECEIPTS_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with TestClient(app_of(shop.module)) as client:
        (directory,) = tmp_path.iterdir()  # created at start-up
        assert directory.name.startswith("bookshop-receipts-")
        order, book = place_order(client)
        assert (directory / f"order-{order}.txt").read_text() == receipt_of(order, book)
    assert list(tmp_path.iterdir()) == []  # removed at shutdown, like the in-memory database


def test_customers_register_and_log_in(client: TestClient) -> None:
    ann = call(client, "POST", "/customers", 201, {"name": " Ann ", "password": "correct horse"})
    assert ann == {"id": ann["id"], "name": "Ann"}  # never the hash
    bob = call(client, "POST", "/customers", 201, {"name": "Bob", "password": "correct horse"})
    assert bob["id"] != ann["id"]

    assert call(client, "POST", "/login", 200, {"name": "Ann", "password": "correct horse"}) == ann
    assert call(client, "POST", "/login", 200, {"name": "Bob", "password": "correct horse"}) == bob
    refused = {"detail": "wrong name or password"}
    assert call(client, "POST", "/login", 401, {"name": "Ann", "password": "Correct horse"}) == (
        refused
    )
    assert call(client, "POST", "/login", 401, {"name": "Cy", "password": "correct horse"}) == (
        refused  # an unknown name gets the same answer
    )
    taken = call(client, "POST", "/customers", 409, {"name": "Ann", "password": "other pass"})
    assert taken == {"detail": "the name 'Ann' is taken"}
    call(client, "POST", "/customers", 422, {"name": "Dee", "password": "short"})
    call(client, "POST", "/customers", 422, {"name": "", "password": "long enough"})
    # the refused registrations changed nothing
    assert call(client, "POST", "/login", 200, {"name": "Ann", "password": "correct horse"}) == ann
    call(client, "POST", "/login", 401, {"name": "Dee", "password": "short"})


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every scrypt hash computed in this process: whether it ran on an event loop's thread.

    A worker process imports its own, unpatched ``hashlib``: what it computes is not listed.
    """
    calls: list[bool] = []
    scrypt = hashlib.scrypt

    def spy(*args: Any, **kwargs: Any) -> bytes:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            calls.append(False)
        else:
            calls.append(True)
        return scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    return calls


def test_password_hashes_never_run_on_the_event_loop(
    client: TestClient, shop: Shop, scrypt_calls: list[bool]
) -> None:
    replaced = default_process_pool().statistics().replaced  # counted since the pool was made
    credentials = {"name": "Ann", "password": "correct horse"}
    call(client, "POST", "/customers", 201, credentials)
    call(client, "POST", "/login", 200, credentials)
    call(client, "POST", "/login", 401, {**credentials, "password": "wrong horse"})
    call(client, "POST", "/login", 401, {**credentials, "name": "Bob"})

    if shop.mode is Mode.SYNC:  # called directly, in the threadpool threads of the endpoints
        assert scrypt_calls == [False] * 4
    else:  # awaited with run_cpu, in the worker processes install(processes=2) started
        assert scrypt_calls == []
        stats = default_process_pool().statistics()
        assert (stats.size, stats.alive, stats.busy, stats.replaced) == (2, 2, 0, replaced)


@pytest.mark.anyio
async def test_a_worker_process_hashes_like_this_one() -> None:
    from examples.bookshop_common.passwords import (
        DECOY_HASH,
        DECOY_SALT,
        check_password,
        hash_password,
        new_salt,
    )

    assert is_cpu_bound(hash_password) and is_cpu_bound(check_password)
    salt = new_salt()
    assert salt != new_salt() and len(salt) == 16
    here = await run_blocking(hash_password, "correct horse", salt)  # never on the loop
    try:
        assert await run_cpu(hash_password, "correct horse", salt) == here
        assert await run_cpu(check_password, "correct horse", salt, here) is True
        assert await run_cpu(check_password, "correct horse", DECOY_SALT, here) is False
        assert await run_cpu(check_password, "correct horse", DECOY_SALT, DECOY_HASH) is False
    finally:
        await default_process_pool().shutdown()
    assert await run_blocking(hash_password, "correct horse", new_salt()) != here  # salted
    assert len(here) == 32


def test_install_sizes_what_leaves_the_event_loop(shop: Shop, receipts_dir: Path) -> None:
    from examples.bookshop_common.receipts import FILES

    def sizes() -> tuple[int, int]:
        default = anyio.to_thread.current_default_thread_limiter().total_tokens
        return int(default), FILES.statistics().total

    with TestClient(app_of(shop.module)) as client:
        assert client.portal is not None
        running = client.portal.call(sizes)
        pool = default_process_pool().statistics()
    if shop.mode is Mode.SYNC:  # the threadpool runs everything
        assert running[0] == 16
        assert pool.alive == 0  # no processes=: no worker started
    else:
        assert running == (8, 8)
        assert (pool.size, pool.alive) == (2, 2)  # started with the app
    assert default_process_pool().statistics().alive == 0  # and stopped with it


# --- both shops under audit ----------------------------------------------------------------

CATALOG = {"CatalogService", "AuthorRepository", "BookRepository"}
ORDERS = {"OrderService", "BookRepository", "OrderRepository"}
CUSTOMERS = {"CustomerService", "CustomerRepository"}
# The sync shop's OrderService holds the shared sync ReceiptArchive: one more layer.  The
# async shop's holds an AsyncProxy of it: a boundary, not a layer of the route.
RECEIPTS = "ReceiptArchive"
EXPECTED_LAYERS = {
    "POST /authors": CATALOG,
    "GET /authors": CATALOG,
    "GET /authors/{author_id}": CATALOG,
    "POST /books": CATALOG,
    "GET /books": CATALOG,
    "GET /books/{book_id}": CATALOG,
    "POST /orders": ORDERS,
    "GET /orders/{order_id}/receipt": ORDERS,
    "POST /customers": CUSTOMERS,
    "POST /login": CUSTOMERS,
    "POST /manuscripts/stats": set(),  # CPU work only (run_cpu in the async shop): no layer
}
# sync: the endpoint, each def provider, and the session's setup and teardown
# the sync tree, plus the validation of the response (def endpoints with a response model)
SYNC_HOPS = {"CatalogService": 7, "OrderService": 8, "CustomerService": 6}
KINDS = {"ReceiptArchive": "service"}


def expected_layers(shop: Shop, label: str) -> set[str]:
    layers = EXPECTED_LAYERS[label]
    return layers | {RECEIPTS} if layers is ORDERS and shop.mode is Mode.SYNC else layers


def test_shop_audit_is_clean_and_of_one_mode(shop: Shop) -> None:
    from examples.bookshop_common.receipts import ReceiptArchive

    report = check_app(app_of(shop.module))

    assert report.ok, report.violations
    assert report.notes == []
    assert report.summary() == "11 routes, 0 violations"
    assert {route.label for route in report.routes} == set(EXPECTED_LAYERS)
    for route in report.routes:
        assert route.mode is shop.mode, route.label
        assert route.declared_mode is shop.mode, route.label
        assert route.endpoint is not None
        nodes = route.endpoint.walk()
        assert all(node.mode is shop.mode for node in nodes), route.label
        if not EXPECTED_LAYERS[route.label]:
            assert [node.layer for node in nodes if node.layer] == [], route.label
            continue
        drivers = [node for node in nodes if node.layer and node.layer.kind == "driver"]
        layers = [node for node in nodes if node.layer and node.layer.kind != "driver"]
        assert {node.layer_name for node in layers} == expected_layers(shop, route.label)
        # the session dependency is recognised as the driver of the shop's mode
        assert {node.call for node in drivers} == {"get_session"}
        expected_driver = "Session" if shop.mode is Mode.SYNC else "AsyncSession"
        assert {node.layer_name for node in drivers} == {expected_driver}
        assert all(node.layer is not None and node.layer.mode is shop.mode for node in drivers)
        for node in layers:
            assert node.layer is not None and node.layer.mode is shop.mode
            assert node.provides, f"{node.call} provides {node.layer_name}"
            name = node.layer_name or ""
            kind = KINDS.get(name, "service" if name.endswith("Service") else "repository")
            assert node.layer.kind == kind, name
            # its own layers, and the receipt archive both shops share
            home = "examples.bookshop_common" if name == RECEIPTS else shop.package
            assert node.layer_owner.__module__.startswith(home), name
        assert "get_session" in {node.call for node in nodes}
        archive = [node for node in nodes if node.call == "get_receipt_archive"]
        assert len(archive) == (1 if EXPECTED_LAYERS[route.label] >= ORDERS else 0), route.label
        if shop.mode is Mode.ASYNC:
            assert route.thread_hops == 0, route.label
            # the proxy the provider hands out is seen, and is no layer
            assert all(node.layer is None and node.mode is Mode.ASYNC for node in archive)
            provided = [get_type_hints(node.call_object)["return"] for node in archive]
            assert provided == [AsyncProxy[ReceiptArchive]] * len(archive), route.label
        else:
            (service,) = [node.layer_name or "" for node in route.endpoint.children]
            assert route.thread_hops == SYNC_HOPS[service], route.label


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


OFFLOAD_MISTAKE = "cpu_bound_closure"  # refused by @cpu_bound: a usage error, not a violation


def test_cpu_bound_on_a_closure_is_refused_on_import() -> None:
    name = f"examples.broken.{OFFLOAD_MISTAKE}"
    with pytest.raises(ProcessTargetError) as caught:
        import_fresh(name)

    assert name not in sys.modules
    path = BROKEN_DIR / f"{OFFLOAD_MISTAKE}.py"
    line = line_of(path, "    @cpu_bound")  # the nested function's decorator
    message = str(caught.value)
    assert message.startswith("@cpu_bound cannot mark hash_password (")
    assert f"{OFFLOAD_MISTAKE}.py:{line}): it is defined inside" in message  # file relative to cwd
    for words in (
        "defined inside make_password_hasher()",
        "a worker imports functions by module and name",
        "nested function or closure",
        "Fix: move it to module level and pass what it uses as arguments",
    ):
        assert words in message
    assert not caught.value.violations  # a usage error, not a rule violation


def test_every_broken_module_is_covered_and_has_a_docstring() -> None:
    modules = {path.stem for path in BROKEN_DIR.glob("*.py")} - {"__init__", "__main__"}
    assert modules == {m.module for m in MISTAKES} | {"main", OFFLOAD_MISTAKE}
    for module in modules:
        source = (BROKEN_DIR / f"{module}.py").read_text()
        assert source.startswith('"""') and "Fix:" in source, module


def test_the_broken_package_itself_imports_nothing_broken() -> None:
    broken = [f"examples.broken.{m.module}" for m in MISTAKES]
    broken.append(f"examples.broken.{OFFLOAD_MISTAKE}")
    for name in broken:
        sys.modules.pop(name, None)
    import_fresh("examples.broken")
    assert not any(name in sys.modules for name in broken)


def test_broken_main_imports_but_its_audit_reports_exactly_the_mistake() -> None:
    app = import_fresh(BROKEN_APP).app
    report = check_app(app)

    assert report.summary() == "2 routes, 2 violations"
    violation, call = report.violations  # the wiring (R3), and the blocking call it makes (R5)
    assert call.rule is Rule.R5
    assert call.subject.name == "book_availability"
    line = line_of(BROKEN_DIR / "main.py", ">= quantity")
    assert call.cause_chain[-1] == f"CatalogService.get_book (examples/broken/main.py:{line})"
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
    assert routes["GET /books/{book_id}/availability"].violations == [violation, call]
    fine = routes["GET /books/{book_id}"]
    assert fine.violations == [] and fine.mode is Mode.SYNC and fine.declared_mode is None


def test_broken_main_refuses_to_start() -> None:
    app = import_fresh(BROKEN_APP).app
    with pytest.raises(BoundaryViolationsError) as caught, TestClient(app):
        pytest.fail("the app started")
    assert "refusing to start" in str(caught.value)
    assert [v.subject.name for v in caught.value.violations] == ["book_availability"] * 2


# --- the command line ----------------------------------------------------------------------


def check(capsys: pytest.CaptureFixture[str], target: str, *args: str) -> tuple[int, str, str]:
    status = cli_main(["check", target, "--app-dir", str(ROOT), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_passes_each_shop(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, f"{shop.module}:app")
    assert status == 0, out
    assert f"POST /orders  {shop.mode.value} (declared)" in out
    assert out.rstrip().endswith("no findings in 11 routes")

    status, out, _ = check(capsys, f"{shop.module}:app", "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["ok"] is True and data["findings"] == []
    assert {route["mode"] for route in data["routes"]} == {shop.mode.value}


def test_cli_fails_the_broken_app(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, f"{BROKEN_APP}:app")
    assert status == 1
    assert "R3 same-mode-dependencies: async endpoint book_availability" in out
    assert "R5 no-blocking-on-the-loop: async endpoint book_availability" in out
    assert out.rstrip().endswith("2 findings affecting 1 of 2 routes")

    status, out, _ = check(capsys, f"{BROKEN_APP}:app", "--format", "json")
    assert status == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert [(v["rule"], v["subject"]["name"]) for v in data["findings"]] == [
        ("R3", "book_availability"),
        ("R5", "book_availability"),
    ]

    status, out, _ = check(capsys, f"{BROKEN_APP}:app", "--format", "github")
    assert status == 1
    assert out.startswith("::error file=") and "main.py,line=" in out


def test_cli_fails_a_module_that_raises_on_import(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = check(capsys, "examples.broken.fake_async_repository:app")
    assert status == 1  # a violation, not a load error (2)
    assert "ModeMismatchError" in err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(*args, env={"FASTAPI_BOUNDARY_MODE": "strict"})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "status"),
    [("examples.sync_bookshop.main", 0), ("examples.async_bookshop.main", 0), (BROKEN_APP, 1)],
)
def test_cli_in_a_subprocess(module: str, status: int) -> None:
    result = _run("-m", "fastapi_boundary", "check", f"{module}:app", "--format", "json")
    assert result.returncode == status, result.stderr
    assert json.loads(result.stdout)["ok"] is (status == 0)


@pytest.mark.slow
def test_python_dash_m_examples_broken_shows_every_mistake() -> None:
    result = _run("-m", "examples.broken")
    assert result.returncode == 1, result.stdout + result.stderr
    for mistake in MISTAKES:
        assert f"$ import examples.broken.{mistake.module}\n" in result.stdout
        assert f"  {mistake.error.__name__}:\n    {mistake.rule.code} " in result.stdout
    assert (
        f"$ import examples.broken.{OFFLOAD_MISTAKE}\n  ProcessTargetError:\n"
        "    @cpu_bound cannot mark hash_password (" in result.stdout
    )
    assert "async endpoint book_availability" in result.stdout
    assert result.stdout.rstrip().endswith(f"all {len(MISTAKES) + 2} mistakes caught")
