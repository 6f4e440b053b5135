"""An ``async def`` endpoint added to the sync shop's kind of router.

The endpoint uses the sync shop's ``CatalogService``, whose methods block.
As an ``async def`` it would run on the event loop instead of in FastAPI's
threadpool, and every blocking call would stall the whole server.  A
``SyncRouter`` accepts only plain ``def`` endpoints, so importing this module
raises ``RouteModeError``.

Fix: drop the ``async``: a plain ``def`` endpoint runs in the threadpool.
"""

from examples.bookshop_common.schemas import BookRead
from examples.sync_bookshop.dependencies import CatalogServiceDep
from fastapi_boundary import SyncRouter

router = SyncRouter()


@router.get("/books/{book_id}")
async def get_book(book_id: int, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(catalog.get_book(book_id))
