"""The database dependency, as apps write it: a generator with no return annotation."""

import sqlite3


def get_db():  # type: ignore[no-untyped-def]
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        yield connection
    finally:
        connection.close()
