"""Blocking calls inside ``async def``: layers, markers and the catalogue, resolved by type."""

import os
import shutil
import smtplib
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import TextIO

import anyio
import requests
from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Session
from typing_extensions import assert_type

from fastapi_boundary import AsyncService, SyncRepository, blocking, cpu_bound, run_blocking


class ItemRepository(SyncRepository):
    def get(self, item_id: int) -> int:
        time.sleep(0.01)  # a sync layer may block: it runs in a thread
        return item_id


class ItemService(AsyncService):
    def __init__(self, repo: ItemRepository) -> None:  # E: boundary-layer-dependency
        self.repo = repo

    async def list(self) -> int:
        return self.repo.get(1)  # E: boundary-blocking-call

    async def offloaded(self) -> int:
        return await run_blocking(self.repo.get, 1)


@blocking
def fetch(url: str) -> str:
    return url


@blocking(limiter="net")
def fetch_limited(url: str) -> str:
    return url


@cpu_bound
def crunch(n: int) -> int:
    return n


alias = fetch


class Holder:
    def __init__(self) -> None:
        self.call = fetch


async def markers() -> None:
    fetch("a")  # E: boundary-blocking-call
    fetch_limited("a")  # E: boundary-blocking-call
    crunch(1)  # E: boundary-blocking-call
    alias("a")  # E: boundary-blocking-call
    Holder().call("a")  # E: boundary-blocking-call
    local = fetch
    local("a")  # E: boundary-blocking-call
    fetch("a")  # type: ignore[boundary-blocking-call]
    await run_blocking(fetch, "a")
    await run_blocking(lambda: fetch("a"))

    def inner() -> str:
        return fetch("a")

    await run_blocking(inner)


async def catalogue(session: Session, async_session: AsyncSession, path: Path) -> None:
    time.sleep(1)  # E: boundary-blocking-call
    session.execute(text("select 1"))  # E: boundary-blocking-call
    session.commit()  # E: boundary-blocking-call
    await async_session.execute(text("select 1"))
    await async_session.commit()
    os.path.exists("x")  # E: boundary-blocking-call
    path.read_text()  # E: boundary-blocking-call
    open("x").read()  # noqa: SIM115  # E: boundary-blocking-call boundary-blocking-call
    requests.get("http://x")  # E: boundary-blocking-call
    await anyio.sleep(1)


async def overloaded_callees() -> None:
    # A boundary error must not change which overload mypy picks (text mode, str output).
    with open("x", "w") as handle:  # E: boundary-blocking-call
        handle.write("")  # E: boundary-blocking-call
    done = subprocess.run(["ls"], capture_output=True, text=True)  # E: boundary-blocking-call
    assert_type(done.stdout, str)
    with open("x", "rb") as raw:  # E: boundary-blocking-call
        raw.read()  # E: boundary-blocking-call
    sqlite3.connect(":memory:")  # E: boundary-blocking-call
    shutil.rmtree("x")  # E: boundary-blocking-call


class Base(DeclarativeBase):
    pass


async def families(engine: Engine, upload: TextIO, target: TextIO, item: Base) -> None:
    smtp = smtplib.SMTP("mail.example.com")  # E: boundary-blocking-call
    smtp.starttls()  # E: boundary-blocking-call
    smtp.sendmail("a@example.com", ["b@example.com"], "hi")  # E: boundary-blocking-call
    secure = smtplib.SMTP_SSL("mail.example.com")  # E: boundary-blocking-call
    secure.login("a", "b")  # E: boundary-blocking-call
    shutil.copyfileobj(upload, target)  # E: boundary-blocking-call
    inspector = inspect(engine)  # E: boundary-blocking-call
    inspector.get_table_names()  # E: boundary-blocking-call
    MetaData().create_all(engine)  # E: boundary-blocking-call
    inspect(item)  # an ORM object's state: no I/O
    inspect(Base)  # a mapper: no I/O


class Clock:
    def sleep(self, seconds: float) -> None:
        pass


async def shadowed() -> None:
    time = Clock()
    time.sleep(1)


def sync_code(session: Session) -> None:
    time.sleep(1)
    session.commit()
    fetch("a")
