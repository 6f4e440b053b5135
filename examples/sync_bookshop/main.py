"""The sync bookshop app: ``uvicorn examples.sync_bookshop.main:app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import fastapi_boundary
from examples.bookshop_common.errors import add_error_handlers
from examples.bookshop_common.receipts import ReceiptArchive, open_receipt_archive
from fastapi_boundary import run_blocking

from .db import create_tables, engine
from .routes import router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, ReceiptArchive]]:
    """Create the tables and open the receipt archive; both block, so in worker threads.

    The archive is handed to the requests in the lifespan state
    (``request.state.receipts``).
    """
    await run_blocking(create_tables)
    try:
        archive = await run_blocking(open_receipt_archive)  # under its limiter, bookshop-files
        try:
            yield {"receipts": archive}
        finally:
            await run_blocking(archive.close)
    finally:
        await run_blocking(engine.dispose)


app = FastAPI(title="Bookshop (sync)", lifespan=lifespan)
app.include_router(router)
add_error_handlers(app)
# Audit the routes at start-up (strict: refuse to start).  Every endpoint and dependency of
# this shop runs in FastAPI's threadpool (the default limiter), and so do its queries, its
# receipt files and its password hashing: 16 threads, since the in-memory database is one
# connection that the requests take turns on, and each scrypt hash holds 16 MiB.
fastapi_boundary.install(app, threads=16)
