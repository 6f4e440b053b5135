"""Providers as apps write them, without annotations: their bodies say what they give."""

from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


def get_db():  # type: ignore[no-untyped-def]
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_session():  # type: ignore[no-untyped-def]
    with SessionLocal() as session:
        yield session


async def get_async_session():  # type: ignore[no-untyped-def]
    async with AsyncSessionLocal() as session:
        yield session


class Articles:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return int(self.db.execute(text("select count(*) from articles")).scalar_one())


class Repositories:
    def __init__(self, db: Session) -> None:
        self.articles = Articles(db)


def get_repositories():  # type: ignore[no-untyped-def]
    return Repositories(SessionLocal())


async def get_checked_session():  # type: ignore[no-untyped-def]  # an async provider that blocks
    with SessionLocal() as session:
        session.execute(text("select 1"))  # E: boundary-blocking-call
        yield session
