"""The bookshop's tables, as SQLAlchemy 2.x declarative models.

The same classes serve a ``Session`` and an ``AsyncSession``.  There are no
``relationship()`` attributes on purpose: a lazy load is hidden I/O, which an
async session cannot do implicitly, so the repositories query what they need.
Prices are integer cents (SQLite has no exact decimal type).  A customer's
password is stored only as its salted scrypt hash (see ``passwords``).
"""

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base: ``Base.metadata`` creates every table."""


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Book(Base):
    __tablename__ = "books"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    price_cents: Mapped[int]
    stock: Mapped[int]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    quantity: Mapped[int]
    total_cents: Mapped[int]


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_salt: Mapped[bytes]
    password_hash: Mapped[bytes]
