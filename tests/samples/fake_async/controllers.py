"""Class-based views, and a provider of a plain class: the sync ``Session`` is held, not named."""

from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .db import Item, SessionLocal, get_async_session, get_session


class Controller:
    def __init__(self, session: Session = Depends(get_session)) -> None:
        self.session = session

    async def list(self: "Controller" = Depends()) -> list[str]:
        return [item.name for item in self.session.scalars(select(Item)).all()]


class BoundController:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def count(self) -> Any:
        return self.session.scalar(select(func.count(Item.id)))


class ItemStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name)))


def get_store(session=Depends(get_session)) -> ItemStore:  # type: ignore[no-untyped-def]
    return ItemStore(session)


async def names(store: ItemStore = Depends(get_store)) -> list[str]:
    return store.names()


# --- the twins: the same shapes over an AsyncSession ----------------------------------------


class AsyncController:
    def __init__(self, session: AsyncSession = Depends(get_async_session)) -> None:
        self.session = session

    async def list(self: "AsyncController" = Depends()) -> list[str]:
        return [item.name for item in (await self.session.scalars(select(Item))).all()]


class AsyncItemStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def names(self) -> list[str]:
        return list(await self.session.scalars(select(Item.name)))


async def get_async_store(
    session: AsyncSession = Depends(get_async_session),
) -> AsyncItemStore:
    return AsyncItemStore(session)


async def async_names(store: AsyncItemStore = Depends(get_async_store)) -> list[str]:
    return await store.names()


bound = BoundController(SessionLocal())  # one session for the process: held by the view

app = FastAPI()
app.add_api_route("/controller", Controller.list)
app.add_api_route("/bound", bound.count)
app.add_api_route("/names", names)
app.add_api_route("/async-controller", AsyncController.list)
app.add_api_route("/async-names", async_names)
