from fastapi import FastAPI

from fastapi_boundary import (
    LimiterStatistics,
    SyncService,
    install,
    limiter_statistics,
    run_blocking,
)

from .db import db


class ReportService(SyncService, limiter="db"):  # by name: the limiter declared in db.py
    def monthly_total(self, month: int) -> float:
        return 1250.0 * month  # a sync SQLAlchemy query in real code


app = FastAPI()


@app.get("/metrics/limiters")
async def limiter_metrics() -> list[LimiterStatistics]:
    return limiter_statistics()  # borrowed, waiting and total threads of every limiter


# 40 threads for FastAPI's own def endpoints and dependencies; "db" keeps its 5
install(app, threads=40, limiters={"db": 5})


async def main() -> None:
    print(db)
    print(await run_blocking(ReportService().monthly_total, 2))
    print(db.statistics())
