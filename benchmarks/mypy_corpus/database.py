"""A sync SQLAlchemy Session and sqlite3 used from async code (type-aware)."""

import sqlite3

from sqlalchemy import text
from sqlalchemy.orm import Session


async def handler(session: Session, connection: sqlite3.Connection) -> None:
    session.execute(text("select 1"))  # expect
    session.commit()  # expect
    connection.execute("select 1")  # expect
