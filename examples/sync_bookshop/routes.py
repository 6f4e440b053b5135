"""The HTTP API: a ``SyncRouter`` of plain ``def`` endpoints over the sync services.

Adding an ``async def`` endpoint here, or one that depends on an async layer,
raises ``RouteModeError`` at import time.
"""

from typing import Any

from examples.bookshop_common.schemas import (
    AuthorCreate,
    AuthorRead,
    BookCreate,
    BookRead,
    OrderCreate,
    OrderRead,
)
from fastapi_boundary import SyncRouter

from .dependencies import CatalogServiceDep, OrderServiceDep

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
