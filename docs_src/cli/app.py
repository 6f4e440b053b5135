from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket

from fastapi_boundary import (
    AsyncRouter,
    AsyncService,
    SyncRepository,
    SyncRouter,
    SyncService,
    install,
)


class BookRepository(SyncRepository):
    def __init__(self, session: dict[int, str]) -> None:
        self.session = session

    def get(self, book_id: int) -> str | None:
        return self.session.get(book_id)


class BookService(SyncService):
    def __init__(self, repo: BookRepository) -> None:
        self.repo = repo

    def title(self, book_id: int) -> str:
        return self.repo.get(book_id) or "unknown"


class Notifier(AsyncService):
    async def welcome(self, websocket: WebSocket) -> None:
        await websocket.send_text("welcome")


def get_session() -> Iterator[dict[int, str]]:
    yield {1: "Dune"}  # setup and teardown each take a threadpool hop


def get_book_service(
    session: Annotated[dict[int, str], Depends(get_session)],
) -> BookService:
    return BookService(BookRepository(session))


books = SyncRouter(prefix="/books")
live = AsyncRouter()


@books.get("/{book_id}")
def read_book(book_id: int, service: Annotated[BookService, Depends(get_book_service)]) -> str:
    return service.title(book_id)


@live.websocket("/live")
async def live_updates(websocket: WebSocket, notifier: Annotated[Notifier, Depends()]) -> None:
    await websocket.accept()
    await notifier.welcome(websocket)
    await websocket.close()


app = FastAPI()
app.include_router(books)
app.include_router(live)


@app.get("/health")
def health() -> dict[str, str]:  # an undeclared route: its mode is inferred
    return {"status": "ok"}


install(app)
