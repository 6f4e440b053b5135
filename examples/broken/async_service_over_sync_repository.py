"""R3: an async service built on the sync shop's repository.

``CatalogService`` is async, so its methods run on the event loop; the
``BookRepository`` it is handed does blocking queries.  Every ``await
catalog.get_book(...)`` would stall the loop for the length of a query.
The dependency is visible in ``__init__``, so importing this module raises
``LayerDependencyError``.

Fix: give the service the async shop's ``BookRepository`` (over an
``AsyncSession``), or make the service a ``SyncService`` with ``def`` methods.
"""

from examples.bookshop_common.models import Book
from examples.sync_bookshop.repositories import BookRepository
from fastapi_boundary import AsyncService


class CatalogService(AsyncService):
    def __init__(self, books: BookRepository) -> None:
        self._books = books

    async def get_book(self, book_id: int) -> Book | None:
        return self._books.get(book_id)  # a blocking query, on the event loop
