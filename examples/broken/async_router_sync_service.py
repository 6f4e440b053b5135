"""An async endpoint whose dependencies hand it a sync service.

The endpoint is a correct ``async def`` on an ``AsyncRouter``, but its
``Depends`` provider, ``get_catalog_service``, returns the sync shop's
``CatalogService``: the endpoint would call blocking methods on the event
loop.  The router walks each endpoint's dependency tree as it is added, so
importing this module raises ``RouteModeError``.

Fix: depend on the async shop's ``CatalogServiceDep``, or make the endpoint a
plain ``def`` on a ``SyncRouter``.
"""

from examples.bookshop_common.schemas import BookRead
from examples.sync_bookshop.dependencies import CatalogServiceDep
from fastapi_boundary import AsyncRouter

router = AsyncRouter()


@router.get("/books/{book_id}")
async def get_book(book_id: int, catalog: CatalogServiceDep) -> BookRead:
    return BookRead.model_validate(catalog.get_book(book_id))
