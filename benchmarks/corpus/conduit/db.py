from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from . import config
from .models import Base

engine = create_engine(
    config.DATABASE_URL, connect_args={"check_same_thread": False}, poolclass=StaticPool
)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)

async_engine = create_async_engine(config.ASYNC_DATABASE_URL, poolclass=StaticPool)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)

Base.metadata.create_all(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session


def init_db() -> None:
    from .crud import create_user, get_user_by_username

    with SessionLocal() as db:
        if get_user_by_username(db, "alice") is None:
            create_user(db, "alice", "wonderland")
            create_user(db, "bob", "builder")


init_db()
