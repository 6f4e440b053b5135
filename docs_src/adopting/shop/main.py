import sqlite3
from pathlib import Path

from fastapi import Depends, FastAPI

from .db import get_db
from .repositories import OrderRepository
from .services import ReportService

app = FastAPI(title="Shop")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/count")
async def count_orders(db: sqlite3.Connection = Depends(get_db)) -> dict[str, int]:
    (count,) = db.execute("select 3").fetchone()
    return {"count": count}


@app.get("/orders/export")
async def export_orders(db: sqlite3.Connection = Depends(get_db)) -> list[int]:
    ids = [row[0] for row in db.execute("select 1 union select 2")]
    Path("orders.csv").write_text("\n".join(map(str, ids)))
    return ids


@app.get("/orders/totals")
def order_totals(orders: OrderRepository = Depends()) -> dict[str, int]:
    return orders.totals()


@app.get("/reports/summary")
async def report_summary(reports: ReportService = Depends()) -> dict[str, int]:
    return await reports.summary()
