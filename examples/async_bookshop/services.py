"""Async services: the business rules, over async repositories only.

An ``AsyncService`` may depend only on async layers: handing it a sync
repository raises ``LayerDependencyError`` when the class is created.  A
helper that does no I/O may stay a plain ``def`` when marked ``@pure``.
"""

from examples.bookshop_common.errors import NotFoundError, OutOfStockError
from examples.bookshop_common.models import Author, Book, Order
from examples.bookshop_common.schemas import BookCreate
from fastapi_boundary import AsyncService, pure

from .repositories import AuthorRepository, BookRepository, OrderRepository


class CatalogService(AsyncService):
    """Authors and the books they wrote."""

    def __init__(self, authors: AuthorRepository, books: BookRepository) -> None:
        self._authors = authors
        self._books = books

    async def create_author(self, name: str) -> Author:
        return await self._authors.add(name.strip())

    async def list_authors(self) -> list[Author]:
        return await self._authors.list_all()

    async def get_author(self, author_id: int) -> Author:
        author = await self._authors.get(author_id)
        if author is None:
            raise NotFoundError(f"author {author_id} not found")
        return author

    async def create_book(self, data: BookCreate) -> Book:
        await self.get_author(data.author_id)  # a book needs an existing author
        return await self._books.add(
            data.title.strip(), data.author_id, data.price_cents, data.stock
        )

    async def list_books(self, author_id: int | None = None) -> list[Book]:
        if author_id is not None:
            await self.get_author(author_id)
        return await self._books.list_all(author_id)

    async def get_book(self, book_id: int) -> Book:
        book = await self._books.get(book_id)
        if book is None:
            raise NotFoundError(f"book {book_id} not found")
        return book


class OrderService(AsyncService):
    """Orders take copies out of stock, never more than there are."""

    def __init__(self, books: BookRepository, orders: OrderRepository) -> None:
        self._books = books
        self._orders = orders

    @pure
    def quote(self, book: Book, quantity: int) -> int:
        """The price of ``quantity`` copies, in cents (arithmetic only: no I/O, no await)."""
        return book.price_cents * quantity

    async def place_order(self, book_id: int, quantity: int) -> Order:
        book = await self._books.get_for_update(book_id)
        if book is None:
            raise NotFoundError(f"book {book_id} not found")
        if quantity > book.stock:
            copies = "copy" if book.stock == 1 else "copies"
            raise OutOfStockError(
                f"only {book.stock} {copies} of {book.title!r} in stock; {quantity} ordered"
            )
        book.stock -= quantity
        return await self._orders.add(book.id, quantity, self.quote(book, quantity))
