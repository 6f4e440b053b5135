import os

from fastapi import Request
from sqlalchemy import String, create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

SQLALCHEMY_DATABASE_URI = os.environ.get("DISPATCH_DATABASE_URI", "sqlite://")

engine = create_engine(
    SQLALCHEMY_DATABASE_URI, connect_args={"check_same_thread": False}, poolclass=StaticPool
)
SessionLocal = sessionmaker(bind=engine)
async_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))


Base.metadata.create_all(bind=engine)


def get_db(request: Request):
    return request.state.db


def get_session():
    with SessionLocal() as session:
        yield session


async def get_async_session():
    async with AsyncSessionLocal() as session:
        yield session
