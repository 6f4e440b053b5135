"""Mode of definitions: methods against their layer's mode."""

from functools import cached_property

from fastapi_boundary import AsyncRepository, AsyncService, SyncRepository, SyncService, layer, pure


class FakeAsyncRepository(SyncRepository):
    def get(self, book_id: int) -> int:
        return book_id

    async def fetch(self, book_id: int) -> int:  # E: boundary-layer-mode
        return book_id

    async def _private(self) -> None:
        pass


class PlainDefService(AsyncService):
    async def total(self) -> int:
        return 1

    def count(self) -> int:  # E: boundary-layer-mode
        return 1

    @pure
    def title(self, text: str) -> str:
        return text.title()

    @property
    def name(self) -> str:
        return "x"

    @cached_property
    def size(self) -> int:
        return 1

    def _helper(self) -> int:
        return 1


class StreamingRepository(AsyncRepository):
    def rows(self) -> list[int]:  # E: boundary-layer-mode
        return []


class BaseSync(SyncService):
    pass


class Derived(BaseSync):
    async def more(self) -> None:  # E: boundary-layer-mode
        pass


@layer("async", kind="client")
class DeclaredClient:
    async def get(self) -> int:
        return 1

    def put(self) -> None:  # E: boundary-layer-mode
        pass


@layer("async")
def not_async() -> int:  # E: boundary-layer-mode
    return 1


@layer("sync")
def fine() -> int:
    return 1


class Ignored(SyncRepository):
    async def get(self) -> int:  # type: ignore[boundary-layer-mode]
        return 1
