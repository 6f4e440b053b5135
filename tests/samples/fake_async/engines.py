"""Engines: a module-level one, one made by a helper without a return annotation, inspectors."""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, inspect, text

from .db import async_engine, engine


def make_engine(url: str):  # type: ignore[no-untyped-def]  # no return annotation
    return create_engine(url)


async def inspector() -> list[str]:
    names: list[str] = inspect(make_engine("sqlite://")).get_schema_names()
    return names


async def module_engine() -> Any:
    with engine.connect() as connection:
        return connection.execute(text("select 1")).scalar()


# --- the twins: the async engine ------------------------------------------------------------


async def async_module_engine() -> Any:
    async with async_engine.connect() as connection:
        return (await connection.execute(text("select 1"))).scalar()


async def async_inspector() -> list[str]:
    async with async_engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).get_table_names())


app = FastAPI()
for endpoint in (inspector, module_engine, async_module_engine, async_inspector):
    app.add_api_route(f"/{endpoint.__name__}", endpoint)
