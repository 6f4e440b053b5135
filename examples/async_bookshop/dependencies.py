"""FastAPI dependencies: one session per request, and providers that build the layers.

Each provider declares what it returns (``-> CatalogService``): that is how
``AsyncRouter`` and ``check_app`` see which layer a ``Depends`` hands out.
The providers are ``async def`` although they do not await: a plain ``def``
would cost a threadpool hop per request just to call a constructor.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from examples.bookshop_common.receipts import ReceiptArchive
from fastapi_boundary import AsyncProxy

from .db import SessionFactory
from .repositories import AuthorRepository, BookRepository, CustomerRepository, OrderRepository
from .services import CatalogService, CustomerService, OrderService


async def get_session() -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed if the endpoint returns, rolled back if it raises."""
    async with SessionFactory.begin() as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is an error
# the client sees rather than a write that silently did not happen.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_author_repository(session: SessionDep) -> AuthorRepository:
    return AuthorRepository(session)


async def get_book_repository(session: SessionDep) -> BookRepository:
    return BookRepository(session)


async def get_order_repository(session: SessionDep) -> OrderRepository:
    return OrderRepository(session)


async def get_customer_repository(session: SessionDep) -> CustomerRepository:
    return CustomerRepository(session)


async def get_receipt_archive(request: Request) -> AsyncProxy[ReceiptArchive]:
    """The sync archive behind the async boundary the lifespan made (``to_async``)."""
    receipts: AsyncProxy[ReceiptArchive] = request.state.receipts
    return receipts


async def get_catalog_service(
    authors: Annotated[AuthorRepository, Depends(get_author_repository)],
    books: Annotated[BookRepository, Depends(get_book_repository)],
) -> CatalogService:
    return CatalogService(authors, books)


async def get_order_service(
    books: Annotated[BookRepository, Depends(get_book_repository)],
    orders: Annotated[OrderRepository, Depends(get_order_repository)],
    receipts: Annotated[AsyncProxy[ReceiptArchive], Depends(get_receipt_archive)],
) -> OrderService:
    return OrderService(books, orders, receipts)


async def get_customer_service(
    customers: Annotated[CustomerRepository, Depends(get_customer_repository)],
) -> CustomerService:
    return CustomerService(customers)


CatalogServiceDep = Annotated[CatalogService, Depends(get_catalog_service)]
OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]
CustomerServiceDep = Annotated[CustomerService, Depends(get_customer_service)]
