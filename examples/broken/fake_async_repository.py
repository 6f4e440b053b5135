"""R2: an ``async def`` on a sync repository ("fake async").

The repository wraps a blocking SQLAlchemy ``Session``.  Declaring its method
``async def`` does not make the query asynchronous: FastAPI would await it on
the event loop, and the blocking call inside would stall every other request
until the database answers.  The class is refused when it is created, so
importing this module raises ``ModeMismatchError``.

Fix: keep the method a plain ``def`` (FastAPI runs sync code in its
threadpool), or write an ``AsyncRepository`` over an ``AsyncSession``.
"""

from sqlalchemy.orm import Session

from examples.bookshop_common.models import Book
from fastapi_boundary import SyncRepository


class BookRepository(SyncRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self, book_id: int) -> Book | None:
        return self._session.get(Book, book_id)  # a blocking query, on the event loop
