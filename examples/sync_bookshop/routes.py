"""The HTTP API: a ``SyncRouter`` of plain ``def`` endpoints over the sync services.

Adding an ``async def`` endpoint here, or one that depends on an async layer,
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
from fastapi_boundary import SyncRouter

from .dependencies import CatalogServiceDep, CustomerServiceDep, OrderServiceDep

router = SyncRouter(tags=["bookshop"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


@router.post("/authors", status_code=201)
def create_author(payload: AuthorCreate, catalog: CatalogServiceDep) -> AuthorRead:
    return AuthorRead.model_validate(catalog.create_author(payload.name))


@router.get("/authors")
def list_authors(catalog: CatalogServiceDep) -> list[AuthorRead]:
    return [AuthorRead.model_validate(author) for author in catalog.list_authors()]


@router.get("/authors/{author_id}", responses=NOT_FOUND)
def get_author(author_id: int, catalog: CatalogServiceDep) -> AuthorRead:
    return AuthorRead.model_validate(catalog.get_author(author_id))


@router.post("/books", status_code=201, responses=NOT_FOUND)
def create_book(payload: BookCreate, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(catalog.create_book(payload))


@router.get("/books", responses=NOT_FOUND)
def list_books(catalog: CatalogServiceDep, author_id: int | None = None) -> list[BookRead]:
    return [BookRead.model_validate(book) for book in catalog.list_books(author_id)]


@router.get("/books/{book_id}", responses=NOT_FOUND)
def get_book(book_id: int, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(catalog.get_book(book_id))


@router.post(
    "/orders",
    status_code=201,
    responses={**NOT_FOUND, 409: {"description": "Not enough copies in stock"}},
)
def place_order(payload: OrderCreate, orders: OrderServiceDep) -> OrderRead:
    return OrderRead.model_validate(orders.place_order(payload.book_id, payload.quantity))


@router.get("/orders/{order_id}/receipt", response_class=PlainTextResponse, responses=NOT_FOUND)
def get_receipt(order_id: int, orders: OrderServiceDep) -> str:
    return orders.receipt(order_id)


@router.post("/customers", status_code=201, responses={409: {"description": "The name is taken"}})
def register_customer(payload: CustomerCreate, customers: CustomerServiceDep) -> CustomerRead:
    password = payload.password.get_secret_value()
    return CustomerRead.model_validate(customers.register(payload.name, password))


@router.post("/login", responses={401: {"description": "Wrong name or password"}})
def login(payload: Credentials, customers: CustomerServiceDep) -> CustomerRead:
    password = payload.password.get_secret_value()
    return CustomerRead.model_validate(customers.authenticate(payload.name, password))


@router.post("/manuscripts/stats")
def manuscript_stats(payload: Text) -> ReadingStats:
    """CPU work in a sync shop: a plain def, which FastAPI runs in its threadpool, off the loop."""
    return ReadingStats.model_validate(reading_stats(payload.text))
