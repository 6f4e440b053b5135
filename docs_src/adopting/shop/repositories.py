import sqlite3

from fastapi import Depends

from .db import get_db


class OrderRepository:
    def __init__(self, db: sqlite3.Connection = Depends(get_db)) -> None:
        self.db = db

    def totals(self) -> dict[str, int]:
        (count,) = self.db.execute("select 3").fetchone()
        return {"orders": count}
