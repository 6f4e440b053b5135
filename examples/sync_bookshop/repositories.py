"""Sync repositories: the only code that talks to the database, through a ``Session``.

Public methods are plain ``def``: a ``SyncRepository`` refuses an ``async def``
(it would block the event loop while pretending not to).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from examples.bookshop_common.models import Author, Book, Customer, Order
from fastapi_boundary import SyncRepository


class AuthorRepository(SyncRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, name: str) -> Author:
        author = Author(name=name)
        self._session.add(author)
        self._session.flush()  # assigns the id
        return author

    def get(self, author_id: int) -> Author | None:
        return self._session.get(Author, author_id)

    def list_all(self) -> list[Author]:
        return list(self._session.scalars(select(Author).order_by(Author.id)))


class BookRepository(SyncRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, title: str, author_id: int, price_cents: int, stock: int) -> Book:
        book = Book(title=title, author_id=author_id, price_cents=price_cents, stock=stock)
        self._session.add(book)
        self._session.flush()
        return book

    def get(self, book_id: int) -> Book | None:
        return self._session.get(Book, book_id)

    def get_for_update(self, book_id: int) -> Book | None:
        """The book, row-locked until the transaction ends (a no-op on SQLite)."""
        return self._session.get(Book, book_id, with_for_update=True)

    def list_all(self, author_id: int | None = None) -> list[Book]:
        query = select(Book).order_by(Book.id)
        if author_id is not None:
            query = query.where(Book.author_id == author_id)
        return list(self._session.scalars(query))


class OrderRepository(SyncRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, book_id: int, quantity: int, total_cents: int) -> Order:
        order = Order(book_id=book_id, quantity=quantity, total_cents=total_cents)
        self._session.add(order)
        self._session.flush()
        return order

    def get(self, order_id: int) -> Order | None:
        return self._session.get(Order, order_id)


class CustomerRepository(SyncRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, name: str, password_salt: bytes, password_hash: bytes) -> Customer:
        customer = Customer(name=name, password_salt=password_salt, password_hash=password_hash)
        self._session.add(customer)
        self._session.flush()
        return customer

    def get_by_name(self, name: str) -> Customer | None:
        return self._session.scalar(select(Customer).where(Customer.name == name))
