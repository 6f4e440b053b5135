"""The async bookshop app: ``uvicorn examples.async_bookshop.main:app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import fastapi_boundary
from examples.bookshop_common.errors import add_error_handlers

from .db import create_tables, engine
from .routes import router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the tables at start-up; close the pooled connections at shutdown."""
    await create_tables()
    try:
        yield
    finally:
        await engine.dispose()


app = FastAPI(title="Bookshop (async)", lifespan=lifespan)
app.include_router(router)
add_error_handlers(app)
fastapi_boundary.install(app)  # audit the routes at start-up; strict: refuse to start
