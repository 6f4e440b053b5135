"""Book layers of both modes for the router tests (``tests/audit``): sync and async chains.

No ``from __future__ import annotations``: FastAPI < 0.123.10 cannot resolve the string
annotations of a class dependency's ``__init__`` (it has no ``__globals__``).
"""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends

from fastapi_boundary import AsyncRepository, AsyncService, SyncRepository, SyncService


class Session:
    """Stands in for a blocking DB session."""


def get_session() -> Iterator[Session]:
    yield Session()


class BookRepository(SyncRepository):
    def __init__(self, session: Annotated[Session, Depends(get_session)]) -> None:
        self.session = session

    def count(self) -> int:
        return 3


class BookService(SyncService):
    def __init__(self, books: Annotated[BookRepository, Depends()]) -> None:
        self.books = books

    def count(self) -> int:
        return self.books.count()


def get_book_service(books: Annotated[BookRepository, Depends()]) -> BookService:
    return BookService(books)


class AsyncBookRepository(AsyncRepository):
    async def count(self) -> int:
        return 4


async def get_async_book_repository() -> AsyncIterator[AsyncBookRepository]:
    yield AsyncBookRepository()


class AsyncBookService(AsyncService):
    def __init__(
        self, books: Annotated[AsyncBookRepository, Depends(get_async_book_repository)]
    ) -> None:
        self.books = books

    async def count(self) -> int:
        return await self.books.count()


def helper(books: Annotated[AsyncBookRepository, Depends(get_async_book_repository)]) -> int:
    return 0


async def count_books(
    books: Annotated[AsyncBookRepository, Depends(get_async_book_repository)],
) -> int:
    return await books.count()
