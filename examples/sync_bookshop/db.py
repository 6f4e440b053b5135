"""The sync shop's database: a blocking SQLAlchemy engine and its session factory.

The URL comes from ``BOOKSHOP_DATABASE_URL`` (e.g. ``sqlite:///bookshop.db``).
The default is an in-memory SQLite database shared by every connection
(``StaticPool``), so the shop runs with no set-up; it lives until the app
shuts down.  FastAPI runs sync code in worker threads, hence
``check_same_thread=False``.
"""

import os
from typing import Any

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from examples.bookshop_common.models import Base

DATABASE_URL = os.environ.get("BOOKSHOP_DATABASE_URL", "sqlite://")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets the options a threaded server needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one connection: every session sees one database
    return create_engine(url, **options)


engine = make_engine(DATABASE_URL)
SessionFactory = sessionmaker(engine, expire_on_commit=False)


def create_tables() -> None:
    Base.metadata.create_all(engine)
