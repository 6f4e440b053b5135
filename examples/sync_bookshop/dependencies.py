"""FastAPI dependencies: one session per request, and providers that build the layers.

Each provider declares what it returns (``-> CatalogService``): that is how
``SyncRouter`` and ``check_app`` see which layer a ``Depends`` hands out.

The session dependency stays a plain ``def`` run by FastAPI's threadpool:
``offload_dependency`` with a ``Limiter("bookshop-db", pool=engine)`` would
bound its connection checkouts by the pool's size, but the default in-memory
engine's ``StaticPool`` has no size (one connection shared by every session).
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from examples.bookshop_common.receipts import ReceiptArchive

from .db import SessionFactory
from .repositories import AuthorRepository, BookRepository, CustomerRepository, OrderRepository
from .services import CatalogService, CustomerService, OrderService


def get_session() -> Iterator[Session]:
    """One transaction per request: committed if the endpoint returns, rolled back if it raises."""
    with SessionFactory.begin() as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is an error
# the client sees rather than a write that silently did not happen.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_author_repository(session: SessionDep) -> AuthorRepository:
    return AuthorRepository(session)


def get_book_repository(session: SessionDep) -> BookRepository:
    return BookRepository(session)


def get_order_repository(session: SessionDep) -> OrderRepository:
    return OrderRepository(session)


def get_customer_repository(session: SessionDep) -> CustomerRepository:
    return CustomerRepository(session)


def get_receipt_archive(request: Request) -> ReceiptArchive:
    """The archive the lifespan opened, from its state."""
    archive: ReceiptArchive = request.state.receipts
    return archive


def get_catalog_service(
    authors: Annotated[AuthorRepository, Depends(get_author_repository)],
    books: Annotated[BookRepository, Depends(get_book_repository)],
) -> CatalogService:
    return CatalogService(authors, books)


def get_order_service(
    books: Annotated[BookRepository, Depends(get_book_repository)],
    orders: Annotated[OrderRepository, Depends(get_order_repository)],
    receipts: Annotated[ReceiptArchive, Depends(get_receipt_archive)],
) -> OrderService:
    return OrderService(books, orders, receipts)


def get_customer_service(
    customers: Annotated[CustomerRepository, Depends(get_customer_repository)],
) -> CustomerService:
    return CustomerService(customers)


CatalogServiceDep = Annotated[CatalogService, Depends(get_catalog_service)]
OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]
CustomerServiceDep = Annotated[CustomerService, Depends(get_customer_service)]
