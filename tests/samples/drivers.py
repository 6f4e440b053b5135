"""SQLAlchemy session dependencies of both modes, on in-memory SQLite (``tests/audit``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
SessionFactory = sessionmaker(engine)
async_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
AsyncSessionFactory = async_sessionmaker(async_engine)


def get_session() -> Iterator[Session]:
    with SessionFactory() as session:
        yield session


async def get_async_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionFactory() as session:
        yield session
