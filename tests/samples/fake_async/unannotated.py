"""An unannotated ``Depends``: the provider's body says what it yields."""

from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import select

from .db import Item, get_async_session, get_plain_session, get_session


async def unannotated(session=Depends(get_session)) -> None:  # type: ignore[no-untyped-def]
    session.commit()


async def plain_provider(session=Depends(get_plain_session)) -> list[Any]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Item)).all())


# --- the twin: the same shape over an AsyncSession ------------------------------------------


async def unannotated_async(session=Depends(get_async_session)) -> None:  # type: ignore[no-untyped-def]
    session.add(Item(name="async"))  # sync, but no I/O
    await session.commit()


app = FastAPI()
app.add_api_route("/unannotated", unannotated, methods=["POST"])
app.add_api_route("/plain", plain_provider)
app.add_api_route("/async", unannotated_async, methods=["POST"])
