from collections.abc import AsyncIterator

from fastapi_boundary import offload_dependency

from .db import db


async def get_connection() -> AsyncIterator[str]:  # an async driver: no thread involved
    yield "connection"


connection = offload_dependency(get_connection, limiter=db)
