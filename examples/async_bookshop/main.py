"""The async bookshop app: ``uvicorn examples.async_bookshop.main:app``."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import fastapi_boundary
from examples.bookshop_common.errors import add_error_handlers
from examples.bookshop_common.receipts import ReceiptArchive, open_receipt_archive
from fastapi_boundary import AsyncProxy, CeleryBackend, run_blocking, to_async

from .db import create_tables, engine
from .routes import router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, AsyncProxy[ReceiptArchive]]]:
    """Create the tables and open the receipt archive; close both at shutdown.

    The archive is sync (file I/O): the requests get it behind ``to_async``,
    in the lifespan state (``request.state.receipts``).
    """
    await create_tables()
    try:
        receipts = to_async(await run_blocking(open_receipt_archive))
        try:
            yield {"receipts": receipts}
        finally:
            await receipts.close()
    finally:
        await engine.dispose()


app = FastAPI(title="Bookshop (async)", lifespan=lifespan)
app.include_router(router)
add_error_handlers(app)
# CPU work (password hashes, reading statistics) runs in 2 local worker processes, started
# with the app; with BOOKSHOP_REDIS_URL set, on the Celery workers of worker.py instead.
processes: int | CeleryBackend = 2
if os.environ.get("BOOKSHOP_REDIS_URL"):
    from .worker import queue_backend  # imports Celery: only when a queue is configured

    processes = queue_backend
# Audit the routes at start-up (strict: refuse to start), and size what leaves the event
# loop: receipt files get 8 threads (bookshop-files), CPU work the processes above, and the
# default threadpool, which no route of this shop uses, shrinks to 8.
fastapi_boundary.install(app, threads=8, limiters={"bookshop-files": 8}, processes=processes)
