"""The sync bookshop app: ``uvicorn examples.sync_bookshop.main:app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

import fastapi_boundary
from examples.bookshop_common.errors import add_error_handlers

from .db import create_tables, engine
from .routes import router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the tables at start-up; the driver blocks, so in a worker thread."""
    await anyio.to_thread.run_sync(create_tables)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(engine.dispose)


app = FastAPI(title="Bookshop (sync)", lifespan=lifespan)
app.include_router(router)
add_error_handlers(app)
fastapi_boundary.install(app)  # audit the routes at start-up; strict: refuse to start
