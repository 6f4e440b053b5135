"""Async repositories: the only code that talks to the database, through an ``AsyncSession``.

Public methods are ``async def``: an ``AsyncRepository`` refuses a plain
``def`` (it could only block the event loop or hand back a coroutine).
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.bookshop_common.models import Author, Book, Customer, Order
from fastapi_boundary import AsyncRepository


class AuthorRepository(AsyncRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, name: str) -> Author:
        author = Author(name=name)
        self._session.add(author)
        await self._session.flush()  # assigns the id
        return author

    async def get(self, author_id: int) -> Author | None:
        return await self._session.get(Author, author_id)

    async def list_all(self) -> list[Author]:
        return list(await self._session.scalars(select(Author).order_by(Author.id)))


class BookRepository(AsyncRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, title: str, author_id: int, price_cents: int, stock: int) -> Book:
        book = Book(title=title, author_id=author_id, price_cents=price_cents, stock=stock)
        self._session.add(book)
        await self._session.flush()
        return book

    async def get(self, book_id: int) -> Book | None:
        return await self._session.get(Book, book_id)

    async def get_for_update(self, book_id: int) -> Book | None:
        """The book, row-locked until the transaction ends (a no-op on SQLite)."""
        return await self._session.get(Book, book_id, with_for_update=True)

    async def list_all(self, author_id: int | None = None) -> list[Book]:
        query = select(Book).order_by(Book.id)
        if author_id is not None:
            query = query.where(Book.author_id == author_id)
        return list(await self._session.scalars(query))


class OrderRepository(AsyncRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, book_id: int, quantity: int, total_cents: int) -> Order:
        order = Order(book_id=book_id, quantity=quantity, total_cents=total_cents)
        self._session.add(order)
        await self._session.flush()
        return order

    async def get(self, order_id: int) -> Order | None:
        return await self._session.get(Order, order_id)


class CustomerRepository(AsyncRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, name: str, password_salt: bytes, password_hash: bytes) -> Customer:
        customer = Customer(name=name, password_salt=password_salt, password_hash=password_hash)
        self._session.add(customer)
        await self._session.flush()
        return customer

    async def get_by_name(self, name: str) -> Customer | None:
        return await self._session.scalar(select(Customer).where(Customer.name == name))
