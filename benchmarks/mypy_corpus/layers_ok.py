"""An async repository awaited, and the sync one through to_async."""

from fastapi_boundary import AsyncRepository, AsyncService, SyncRepository, to_async


class BookRepository(SyncRepository):
    def get(self, book_id: int) -> int:
        return book_id


class AsyncBookRepository(AsyncRepository):
    async def get(self, book_id: int) -> int:
        return book_id


class CatalogService(AsyncService):
    async def get(self, books: AsyncBookRepository, sync: BookRepository, book_id: int) -> int:
        await to_async(sync).get(book_id)
        return await books.get(book_id)
