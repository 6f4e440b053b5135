"""The databases of the fake-async samples: a sync and an async SQLAlchemy session, in memory."""

from sqlalchemy import String, create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(engine)
async_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
Base.metadata.create_all(engine)


def get_session():  # type: ignore[no-untyped-def]  # as apps write it: no annotation at all
    with SessionLocal() as session:
        yield session


def get_plain_session():  # type: ignore[no-untyped-def]
    session = SessionLocal()
    try:
        yield session
    finally:
        session.close()


async def get_async_session():  # type: ignore[no-untyped-def]
    async with AsyncSessionLocal() as session:
        yield session


def save_item(name: str) -> int:
    """Sync work with a session of its own: what the twins offload."""
    with SessionLocal() as session:
        item = Item(name=name)
        session.add(item)
        session.commit()
        return item.id


async def create_async_tables() -> None:
    async with async_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
