"""A layer whose constructor or annotated attributes take a layer of the other mode."""

from fastapi_boundary import AsyncProxy, AsyncRepository, AsyncService, SyncRepository, SyncService


class BookRepository(SyncRepository):
    def get(self, book_id: int) -> int:
        return book_id


class AsyncBookRepository(AsyncRepository):
    async def get(self, book_id: int) -> int:
        return book_id


class Catalogue(AsyncService):
    def __init__(self, books: BookRepository) -> None:  # E: boundary-layer-dependency
        self._books = books

    async def get(self, book_id: int) -> int:
        return book_id


class Orders(SyncService):
    books: AsyncBookRepository | None  # E: boundary-layer-dependency

    def count(self) -> int:
        return 1


class Early(AsyncService):
    def __init__(self, repo: "Later") -> None:  # E: boundary-layer-dependency
        self._repo = repo

    async def get(self) -> int:
        return 1


class Later(SyncRepository):
    def get(self) -> int:
        return 1


class Proxied(AsyncService):
    def __init__(self, books: AsyncProxy[BookRepository], same: AsyncBookRepository) -> None:
        self._books = books
        self._same = same

    async def get(self, book_id: int) -> int:
        return await self._books.get(book_id)
