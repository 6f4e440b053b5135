import sqlite3

from fastapi_boundary import AsyncRepository


class NoteRepository(AsyncRepository):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def count(self) -> int:
        (count,) = self.connection.execute("select count(*) from notes").fetchone()
        return int(count)
