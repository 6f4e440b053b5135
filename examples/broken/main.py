"""The mistake no import catches: a plain ``APIRouter`` has no declared mode.

A teammate added an availability check to the sync shop's API.  It is an
``async def`` endpoint, but ``CatalogServiceDep`` hands it the sync shop's
``CatalogService``, whose queries block: each request stalls the event loop.
Importing this module works, and so would the requests.

``check_app(app)`` and ``fastapi-boundary check examples.broken.main:app``
report the violation (exit status 1), and ``install(app)`` refuses to start
the app.  ``get_book`` next to it is fine: a ``def`` endpoint over a sync service.

Fix: make ``book_availability`` a plain ``def``; declare the router a
``SyncRouter`` so the next such endpoint is refused on import.
"""

from fastapi import APIRouter, FastAPI

import fastapi_boundary
from examples.bookshop_common.schemas import BookRead
from examples.sync_bookshop.dependencies import CatalogServiceDep

router = APIRouter()


@router.get("/books/{book_id}")
def get_book(book_id: int, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(catalog.get_book(book_id))


@router.get("/books/{book_id}/availability")
async def book_availability(book_id: int, quantity: int, catalog: CatalogServiceDep) -> bool:
    return catalog.get_book(book_id).stock >= quantity  # a blocking query, on the event loop


app = FastAPI(title="Bookshop (broken)")
app.include_router(router)
fastapi_boundary.install(app)  # strict: this app refuses to start
