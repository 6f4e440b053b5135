"""R2 the other way: a plain ``def`` public method on an async service.

``PricingService`` sits on the async shop's repository, whose methods must be
awaited.  A plain ``def`` cannot await, so this one drives an event loop by
hand, which fails inside a running loop (and would block it if it did not).
Importing this module raises ``ModeMismatchError``.

Fix: make ``is_available`` an ``async def`` that awaits the repository; a
helper that does no I/O at all may stay a ``def`` if it is marked ``@pure``.
"""

import asyncio

from examples.async_bookshop.repositories import BookRepository
from fastapi_boundary import AsyncService


class PricingService(AsyncService):
    def __init__(self, books: BookRepository) -> None:
        self._books = books

    async def price_of(self, book_id: int, quantity: int) -> int | None:
        book = await self._books.get(book_id)
        return None if book is None else book.price_cents * quantity

    def is_available(self, book_id: int, quantity: int) -> bool:
        book = asyncio.run(self._books.get(book_id))  # RuntimeError inside a running loop
        return book is not None and book.stock >= quantity
