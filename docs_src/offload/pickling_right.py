import sqlite3
from contextlib import closing

from fastapi_boundary import run_blocking, run_cpu

from .cpu import price_summary


def load_rows() -> list[tuple[str, float]]:
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute("create table items (sku text, price real)")
        connection.executemany("insert into items values (?, ?)", [("book", 12.5), ("pen", 1.2)])
        return connection.execute("select sku, price from items").fetchall()  # plain data


async def main() -> None:
    rows = await run_blocking(load_rows)  # the database in a thread
    print(await run_cpu(price_summary, rows))  # the computation in a process, on plain data
