"""Async services: the business rules, over async repositories only.

An ``AsyncService`` may depend only on async layers: handing it a sync
repository raises ``LayerDependencyError`` when the class is created.  A
helper that does no I/O may stay a plain ``def`` when marked ``@pure``.

What is not async crosses one explicit boundary: the shared sync
``ReceiptArchive`` arrives as an ``AsyncProxy`` (``to_async``), whose methods
run in worker threads, and the password hash is awaited with ``run_cpu``,
in a worker process.
"""

from examples.bookshop_common.errors import (
    AuthenticationError,
    NameTakenError,
    NotFoundError,
    OutOfStockError,
)
from examples.bookshop_common.models import Author, Book, Customer, Order
from examples.bookshop_common.passwords import (
    DECOY_HASH,
    DECOY_SALT,
    check_password,
    hash_password,
    new_salt,
)
from examples.bookshop_common.receipts import ReceiptArchive, render_receipt
from examples.bookshop_common.schemas import BookCreate
from fastapi_boundary import AsyncProxy, AsyncService, pure, run_cpu

from .repositories import AuthorRepository, BookRepository, CustomerRepository, OrderRepository


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
    """Orders take copies out of stock, never more than there are; each leaves a receipt."""

    def __init__(
        self,
        books: BookRepository,
        orders: OrderRepository,
        receipts: AsyncProxy[ReceiptArchive],
    ) -> None:
        self._books = books
        self._orders = orders
        self._receipts = receipts  # a sync layer behind the boundary: await its methods

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
        order = await self._orders.add(book.id, quantity, self.quote(book, quantity))
        # before the commit: a receipt that cannot be written rolls the order back
        await self._receipts.write(order.id, render_receipt(order, book))
        return order

    async def receipt(self, order_id: int) -> str:
        if await self._orders.get(order_id) is None:
            raise NotFoundError(f"order {order_id} not found")
        text: str | None = await self._receipts.read(order_id)  # the proxy returns Any
        if text is None:
            raise NotFoundError(f"no receipt for order {order_id}")
        return text


class CustomerService(AsyncService):
    """Customer accounts: a name and a password, kept only as its salted hash.

    The hash is CPU work: ``run_cpu`` computes it in a worker process while
    the event loop serves other requests.
    """

    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    async def register(self, name: str, password: str) -> Customer:
        name = name.strip()
        if await self._customers.get_by_name(name) is not None:
            raise NameTakenError(f"the name {name!r} is taken")
        salt = new_salt()
        password_hash = await run_cpu(hash_password, password, salt)
        return await self._customers.add(name, salt, password_hash)

    async def authenticate(self, name: str, password: str) -> Customer:
        customer = await self._customers.get_by_name(name.strip())
        if customer is None:
            await run_cpu(check_password, password, DECOY_SALT, DECOY_HASH)  # as slow as a miss
            raise AuthenticationError
        if not await run_cpu(
            check_password, password, customer.password_salt, customer.password_hash
        ):
            raise AuthenticationError
        return customer
