from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import SyncRepository


class BookRepository(SyncRepository):
    def get(self, book_id: int) -> str | None:
        return {1: "Dune"}.get(book_id)


app = FastAPI()


@app.get("/books/{book_id}")  # a plain app route: nothing is checked when it is added
async def read_book(book_id: int, repo: Annotated[BookRepository, Depends()]) -> str | None:
    return repo.get(book_id)
