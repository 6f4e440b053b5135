"""Negative control: an async app over ``AsyncSession``, its blocking work offloaded.

``session.add`` is sync but does no I/O; everything that does is awaited, and
the sync helpers that block are handed to a thread, not called.  The plugin
must report nothing here.
"""

import asyncio
import smtplib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.concurrency import run_in_threadpool

from fastapi_boundary import run_blocking

engine = create_async_engine("sqlite+aiosqlite://")


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


async def get_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def normalise(name: str) -> str:
    return " ".join(name.split()).title()


def notify(to: str) -> None:
    with smtplib.SMTP("mail.example.com") as smtp:
        smtp.sendmail("shop@example.com", [to], "saved")


class ItemStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def stage(self, name: str) -> Item:
        item = Item(name=normalise(name))
        self.session.add(item)
        return item

    async def add(self, name: str) -> Item:
        item = self.stage(name)
        await self.session.commit()
        await self.session.refresh(item)
        return item


async def create_tables() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


router = APIRouter()


@router.post("/items")
async def create_item(name: str, session: SessionDep, tasks: BackgroundTasks) -> int:
    item = await ItemStore(session).add(name)
    tasks.add_task(notify, "owner@example.com")
    return item.id


@router.get("/items")
async def list_items(session: SessionDep) -> list[str]:
    session.add(Item(name=normalise("x")))
    await session.flush()
    return [item.name for item in await session.scalars(select(Item))]


@router.post("/notify")
async def notify_now(to: str) -> str:
    await run_blocking(notify, to)
    await asyncio.to_thread(notify, to)
    await run_in_threadpool(notify, to)
    return "sent"


app = FastAPI()
app.include_router(router)
