import sqlite3
from contextlib import closing

from fastapi_boundary import run_cpu

from .cpu import price_summary


async def main() -> None:
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute("create table items (sku text, price real)")
        connection.executemany("insert into items values (?, ?)", [("book", 12.5), ("pen", 1.2)])
        rows = connection.execute("select sku, price from items").fetchall()  # plain data
    print(await run_cpu(price_summary, rows))
