"""The async shop's database: an async SQLAlchemy engine and its session factory.

The URL comes from ``BOOKSHOP_ASYNC_DATABASE_URL`` and must name an async
driver (e.g. ``sqlite+aiosqlite:///bookshop.db``).  The default is an
in-memory SQLite database shared by every connection (``StaticPool``); it
lives until the app shuts down.
"""

import os
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from examples.bookshop_common.models import Base

DATABASE_URL = os.environ.get("BOOKSHOP_ASYNC_DATABASE_URL", "sqlite+aiosqlite://")


def make_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; in-memory SQLite shares one connection."""
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one connection: every session sees one database
    return create_async_engine(url, **options)


engine = make_engine(DATABASE_URL)
# expire_on_commit=False: reading an expired attribute would be hidden (and forbidden) I/O.
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def create_tables() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
