"""A sync repository called from an async service (type-aware, project-specific)."""

from fastapi_boundary import AsyncService, SyncRepository


class BookRepository(SyncRepository):
    def get(self, book_id: int) -> int:
        return book_id


class CatalogService(AsyncService):
    async def get(self, books: BookRepository, book_id: int) -> int:
        return books.get(book_id)  # expect
