from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import Depends

from fastapi_boundary import AsyncRouter, SyncRouter

from .layers import QuoteClient, UserRepository, UserService


def get_user_service() -> UserService:
    return UserService(UserRepository())


async def get_quote_client() -> AsyncIterator[QuoteClient]:
    async with httpx.AsyncClient(base_url="https://quotes.example.com") as http:
        yield QuoteClient(http)


users = SyncRouter(prefix="/users", tags=["users"])
quotes = AsyncRouter(prefix="/quotes", tags=["quotes"])


@users.get("/{user_id}")
def read_user(
    user_id: int, service: Annotated[UserService, Depends(get_user_service)]
) -> dict[str, str]:
    return {"name": service.display_name(user_id)}


@quotes.get("/{symbol}")
async def read_quote(
    symbol: str, client: Annotated[QuoteClient, Depends(get_quote_client)]
) -> dict[str, float]:
    return {"price": await client.quote(symbol)}
