import sqlite3

from fastapi_boundary import SyncRepository


class NoteRepository(SyncRepository):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def count(self) -> int:
        (count,) = self.connection.execute("select count(*) from notes").fetchone()
        return int(count)
