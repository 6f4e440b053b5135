import threading
import time
from collections.abc import Iterator
from typing import Annotated

import anyio
import httpx
from fastapi import Depends, FastAPI

from fastapi_boundary import Limiter, install, offload_dependency

pool = threading.BoundedSemaphore(1)  # stands in for a database pool of one connection
checkout = Limiter("checkout", size=1)  # sized like the pool


def get_connection() -> Iterator[str]:
    if not pool.acquire(timeout=3):
        raise RuntimeError("pool exhausted")
    try:
        time.sleep(0.02)  # the checkout's round trip to the database
        yield "connection"
    finally:
        pool.release()


Connection = Annotated[str, Depends(offload_dependency(get_connection, limiter=checkout))]

app = FastAPI()


@app.get("/query")
def query(connection: Connection) -> str:
    return connection


install(app, threads=2)  # two threads for def endpoints and dependencies, as in fastapi#3205


async def main() -> None:
    statuses: list[int] = []
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # start-up, as a server runs it
        httpx.AsyncClient(transport=transport, base_url="http://shop") as client,
    ):

        async def request() -> None:
            statuses.append((await client.get("/query")).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(request)
    print(f"{statuses.count(200)} of {len(statuses)} requests succeeded")
