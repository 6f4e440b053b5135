"""Sync services: the business rules, over sync repositories only.

A ``SyncService`` may depend only on sync layers: handing it an async
repository raises ``LayerDependencyError`` when the class is created.
"""

from examples.bookshop_common.errors import NotFoundError, OutOfStockError
from examples.bookshop_common.models import Author, Book, Order
from examples.bookshop_common.schemas import BookCreate
from fastapi_boundary import SyncService

from .repositories import AuthorRepository, BookRepository, OrderRepository


class CatalogService(SyncService):
    """Authors and the books they wrote."""

    def __init__(self, authors: AuthorRepository, books: BookRepository) -> None:
        self._authors = authors
        self._books = books

    def create_author(self, name: str) -> Author:
        return self._authors.add(name.strip())

    def list_authors(self) -> list[Author]:
        return self._authors.list_all()

    def get_author(self, author_id: int) -> Author:
        author = self._authors.get(author_id)
        if author is None:
            raise NotFoundError(f"author {author_id} not found")
        return author

    def create_book(self, data: BookCreate) -> Book:
        self.get_author(data.author_id)  # a book needs an existing author
        return self._books.add(data.title.strip(), data.author_id, data.price_cents, data.stock)

    def list_books(self, author_id: int | None = None) -> list[Book]:
        if author_id is not None:
            self.get_author(author_id)
        return self._books.list_all(author_id)

    def get_book(self, book_id: int) -> Book:
        book = self._books.get(book_id)
        if book is None:
            raise NotFoundError(f"book {book_id} not found")
        return book


class OrderService(SyncService):
    """Orders take copies out of stock, never more than there are."""

    def __init__(self, books: BookRepository, orders: OrderRepository) -> None:
        self._books = books
        self._orders = orders

    def quote(self, book: Book, quantity: int) -> int:
        """The price of ``quantity`` copies, in cents."""
        return book.price_cents * quantity

    def place_order(self, book_id: int, quantity: int) -> Order:
        book = self._books.get_for_update(book_id)
        if book is None:
            raise NotFoundError(f"book {book_id} not found")
        if quantity > book.stock:
            copies = "copy" if book.stock == 1 else "copies"
            raise OutOfStockError(
                f"only {book.stock} {copies} of {book.title!r} in stock; {quantity} ordered"
            )
        book.stock -= quantity
        return self._orders.add(book.id, quantity, self.quote(book, quantity))
