"""Sync services: the business rules, over sync repositories only.

A ``SyncService`` may depend only on sync layers: handing it an async
repository raises ``LayerDependencyError`` when the class is created.  The
shared ``ReceiptArchive`` is one (file I/O), and the password hash is plain
sync CPU work: both are called directly, in the endpoint's threadpool thread.
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
from fastapi_boundary import SyncService

from .repositories import AuthorRepository, BookRepository, CustomerRepository, OrderRepository


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
    """Orders take copies out of stock, never more than there are; each leaves a receipt."""

    def __init__(
        self, books: BookRepository, orders: OrderRepository, receipts: ReceiptArchive
    ) -> None:
        self._books = books
        self._orders = orders
        self._receipts = receipts

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
        order = self._orders.add(book.id, quantity, self.quote(book, quantity))
        # before the commit: a receipt that cannot be written rolls the order back
        self._receipts.write(order.id, render_receipt(order, book))
        return order

    def receipt(self, order_id: int) -> str:
        if self._orders.get(order_id) is None:
            raise NotFoundError(f"order {order_id} not found")
        text = self._receipts.read(order_id)
        if text is None:
            raise NotFoundError(f"no receipt for order {order_id}")
        return text


class CustomerService(SyncService):
    """Customer accounts: a name and a password, kept only as its salted hash.

    The hash is CPU work; called directly, it runs here, in the threadpool
    thread FastAPI gave the endpoint, never on the event loop.
    """

    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    def register(self, name: str, password: str) -> Customer:
        name = name.strip()
        if self._customers.get_by_name(name) is not None:
            raise NameTakenError(f"the name {name!r} is taken")
        salt = new_salt()
        return self._customers.add(name, salt, hash_password(password, salt))

    def authenticate(self, name: str, password: str) -> Customer:
        customer = self._customers.get_by_name(name.strip())
        if customer is None:
            check_password(password, DECOY_SALT, DECOY_HASH)  # as slow as a wrong password
            raise AuthenticationError
        if not check_password(password, customer.password_salt, customer.password_hash):
            raise AuthenticationError
        return customer
