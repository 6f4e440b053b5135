"""Endpoints: router mode and dependencies of the other mode."""

from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket

from fastapi_boundary import AsyncRouter, AsyncService, SyncRouter, SyncService, to_async


class Catalog(SyncService):
    def count(self) -> int:
        return 1


class AsyncCatalog(AsyncService):
    async def count(self) -> int:
        return 1


CatalogDep = Annotated[Catalog, Depends(Catalog)]
sync_router = SyncRouter()
async_router = AsyncRouter()
plain = APIRouter()


@sync_router.get("/a")
async def async_on_sync() -> int:  # E: boundary-route-mode
    return 1


@async_router.post("/b")
def sync_on_async() -> int:  # E: boundary-route-mode
    return 1


@sync_router.get("/c")
def fine(catalog: CatalogDep) -> int:
    return catalog.count()


@plain.get("/d")
async def async_over_sync(catalog: CatalogDep) -> int:  # E: boundary-endpoint-dependency
    return 1


@plain.get("/e")
def sync_over(c: AsyncCatalog = Depends(AsyncCatalog)) -> int:  # E: boundary-endpoint-dependency
    return 1


def provide() -> object:
    return to_async(Catalog())


@async_router.get("/f")
async def proxied(catalog: Annotated[AsyncCatalog, Depends(AsyncCatalog)]) -> int:
    return await catalog.count()


@sync_router.websocket("/ws")
async def socket(websocket: WebSocket) -> None:  # E: boundary-route-mode
    await websocket.accept()
