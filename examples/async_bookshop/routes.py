"""The HTTP API: an ``AsyncRouter`` of ``async def`` endpoints over the async services.

Adding a plain ``def`` endpoint here, or one that depends on a sync layer,
raises ``RouteModeError`` at import time.
"""

from typing import Any

from fastapi.responses import PlainTextResponse

from examples.bookshop_common.analysis import reading_stats
from examples.bookshop_common.schemas import (
    AuthorCreate,
    AuthorRead,
    BookCreate,
    BookRead,
    Credentials,
    CustomerCreate,
    CustomerRead,
    OrderCreate,
    OrderRead,
    ReadingStats,
    Text,
)
from fastapi_boundary import AsyncRouter, run_cpu

from .dependencies import CatalogServiceDep, CustomerServiceDep, OrderServiceDep

router = AsyncRouter(tags=["bookshop"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


@router.post("/authors", status_code=201)
async def create_author(payload: AuthorCreate, catalog: CatalogServiceDep) -> AuthorRead:
    return AuthorRead.model_validate(await catalog.create_author(payload.name))


@router.get("/authors")
async def list_authors(catalog: CatalogServiceDep) -> list[AuthorRead]:
    return [AuthorRead.model_validate(author) for author in await catalog.list_authors()]


@router.get("/authors/{author_id}", responses=NOT_FOUND)
async def get_author(author_id: int, catalog: CatalogServiceDep) -> AuthorRead:
    return AuthorRead.model_validate(await catalog.get_author(author_id))


@router.post("/books", status_code=201, responses=NOT_FOUND)
async def create_book(payload: BookCreate, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(await catalog.create_book(payload))


@router.get("/books", responses=NOT_FOUND)
async def list_books(catalog: CatalogServiceDep, author_id: int | None = None) -> list[BookRead]:
    return [BookRead.model_validate(book) for book in await catalog.list_books(author_id)]


@router.get("/books/{book_id}", responses=NOT_FOUND)
async def get_book(book_id: int, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(await catalog.get_book(book_id))


@router.post(
    "/orders",
    status_code=201,
    responses={**NOT_FOUND, 409: {"description": "Not enough copies in stock"}},
)
async def place_order(payload: OrderCreate, orders: OrderServiceDep) -> OrderRead:
    order = await orders.place_order(payload.book_id, payload.quantity)
    return OrderRead.model_validate(order)


@router.get("/orders/{order_id}/receipt", response_class=PlainTextResponse, responses=NOT_FOUND)
async def get_receipt(order_id: int, orders: OrderServiceDep) -> str:
    return await orders.receipt(order_id)


@router.post("/customers", status_code=201, responses={409: {"description": "The name is taken"}})
async def register_customer(payload: CustomerCreate, customers: CustomerServiceDep) -> CustomerRead:
    password = payload.password.get_secret_value()
    return CustomerRead.model_validate(await customers.register(payload.name, password))


@router.post("/login", responses={401: {"description": "Wrong name or password"}})
async def login(payload: Credentials, customers: CustomerServiceDep) -> CustomerRead:
    password = payload.password.get_secret_value()
    return CustomerRead.model_validate(await customers.authenticate(payload.name, password))


@router.post("/manuscripts/stats")
async def manuscript_stats(payload: Text) -> ReadingStats:
    """CPU work: a local worker process, or a Celery worker when the shop has a queue."""
    return ReadingStats.model_validate(await run_cpu(reading_stats, payload.text))
