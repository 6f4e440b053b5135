"""An async layer's method called from a sync layer or a ``def`` endpoint."""

from typing import Annotated

from fastapi import Depends

from fastapi_boundary import AsyncRepository, SyncRouter, SyncService


class AsyncRepo(AsyncRepository):
    async def get(self) -> int:
        return 1


class Reports(SyncService):
    def __init__(self, repo: AsyncRepo) -> None:  # E: boundary-layer-dependency
        self.repo = repo

    def total(self) -> object:
        return self.repo.get()  # E: boundary-async-from-sync


router = SyncRouter()
RepoDep = Annotated[AsyncRepo, Depends(AsyncRepo)]


@router.get("/x")
def endpoint(repo: RepoDep) -> object:  # E: boundary-endpoint-dependency
    return repo.get()  # E: boundary-async-from-sync


def helper(repo: AsyncRepo) -> object:
    return repo.get()


async def awaited(repo: AsyncRepo) -> int:
    return await repo.get()
