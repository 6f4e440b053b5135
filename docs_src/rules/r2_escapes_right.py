import functools
from collections.abc import AsyncIterator

from fastapi_boundary import AsyncRepository, pure


class BookRepository(AsyncRepository):
    table = "books"

    def __init__(self, rows: dict[int, str]) -> None:  # dunder: not checked
        self._rows = rows

    async def get(self, book_id: int) -> str | None:  # public: must be async def
        return self._rows.get(book_id)

    async def stream(self) -> AsyncIterator[str]:  # async generators are async
        for title in self._rows.values():
            yield title

    def _cache_key(self, book_id: int) -> str:  # private: not checked
        return f"{self.table}:{book_id}"

    @pure
    def cache_key(self, book_id: int) -> str:  # @pure: a sync helper that does no I/O
        return self._cache_key(book_id)

    @staticmethod
    @pure
    def normalise(title: str) -> str:  # @pure goes under @staticmethod/@classmethod
        return title.strip().lower()

    @property
    def name(self) -> str:  # properties are not checked
        return self.table

    @functools.cached_property
    def label(self) -> str:  # cached properties neither
        return self.table.title()
