"""Repositories that subclass nothing from the library."""

import sqlite3
from typing import Any

from fastapi import Depends

from .db import get_db


class UserRepository:
    def __init__(self, db: sqlite3.Connection = Depends(get_db)) -> None:
        self.db = db

    def get(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id}


class ReportRepository:
    def totals(self) -> dict[str, int]:
        return {"users": 1}


class AuditRepository:
    async def record(self, event: str) -> None:
        return None
