"""Known drivers (SQLAlchemy, sqlite3, aiosqlite, httpx ...) are checked like layers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import aiosqlite
import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fastapi_boundary import (
    AsyncRepository,
    AsyncRouter,
    AsyncService,
    LayerDependencyError,
    Mode,
    RouteModeError,
    SyncRepository,
    SyncRouter,
    SyncService,
    check_app,
)
from fastapi_boundary._audit.drivers import driver_info
from tests.samples.drivers import get_async_session, get_session


class AppSession(Session):
    """A project's own Session subclass is still a sync driver."""


@pytest.mark.parametrize(
    ("driver", "mode"),
    [
        (Session, Mode.SYNC),
        (AppSession, Mode.SYNC),
        (AsyncSession, Mode.ASYNC),
        (sqlite3.Connection, Mode.SYNC),
        (aiosqlite.Connection, Mode.ASYNC),
        (httpx.Client, Mode.SYNC),
        (httpx.AsyncClient, Mode.ASYNC),
    ],
)
def test_known_drivers_have_a_mode(driver: type, mode: Mode) -> None:
    info = driver_info(driver)
    assert info is not None and info.mode is mode and info.kind == "driver"


@pytest.mark.parametrize("cls", [int, str, dict, FastAPI, Path])
def test_other_classes_are_not_drivers(cls: type) -> None:
    assert driver_info(cls) is None


def test_async_service_over_a_sync_session() -> None:
    with pytest.raises(LayerDependencyError) as caught:

        class Reports(AsyncService):
            def __init__(self, session: Session) -> None:
                self.session = session

    message = str(caught.value)
    assert "async service Reports" in message
    assert "depends on sync driver Session (sqlalchemy.orm.session)" in message
    assert "its async counterpart is sqlalchemy.ext.asyncio.AsyncSession" in message


def test_sync_repository_over_async_drivers() -> None:
    with pytest.raises(LayerDependencyError, match="sync repository Books .* async driver"):

        class Books(SyncRepository):
            session: AsyncSession

    with pytest.raises(LayerDependencyError, match="httpx.Client"):

        class Gateway(SyncService):
            def __init__(self, client: httpx.AsyncClient) -> None:
                self.client = client


def test_matching_drivers_are_fine() -> None:
    class Books(AsyncRepository):
        def __init__(self, session: AsyncSession, db: aiosqlite.Connection) -> None:
            self.session = session

        async def count(self) -> int:
            return 0

    class SyncBooks(SyncRepository):
        def __init__(self, session: AppSession, raw: sqlite3.Connection | None = None) -> None:
            self.session = session


def test_async_endpoint_using_a_sync_session_is_refused() -> None:
    router = AsyncRouter()
    with pytest.raises(RouteModeError) as caught:

        @router.get("/count")
        async def count(session: Annotated[Session, Depends(get_session)]) -> int:
            return 0

    message = str(caught.value)
    assert "async endpoint count" in message
    assert "depends on sync driver Session (sqlalchemy.orm.session)" in message
    assert "provided by get_session" in message
    assert "fix: Session is a sync SQLAlchemy Session" in message


def test_def_endpoint_receiving_an_async_session_is_refused() -> None:
    router = SyncRouter()
    with pytest.raises(RouteModeError, match="sync endpoint count .* async driver AsyncSession"):

        @router.get("/count")
        def count(session: Annotated[AsyncSession, Depends(get_async_session)]) -> int:
            return 0


def test_unmarked_app_audit_finds_sync_sessions_in_async_endpoints() -> None:
    app = FastAPI()

    @app.get("/fake-async")
    async def fake_async(session: Annotated[Session, Depends(get_session)]) -> int:
        return int(session.execute(text("select 1")).scalar_one())

    @app.get("/fine")
    def fine(session: Annotated[Session, Depends(get_session)]) -> int:
        return int(session.execute(text("select 2")).scalar_one())

    @app.get("/fine-async")
    async def fine_async(session: Annotated[AsyncSession, Depends(get_async_session)]) -> int:
        return int((await session.execute(text("select 3"))).scalar_one())

    report = check_app(app)
    violation, call = report.violations  # the wiring (R3), and the call it makes (R5)
    assert violation.chain == ("GET /fake-async", "fake_async", "get_session", "Session")
    assert (call.rule.code, call.route) == ("R5", "GET /fake-async")
    assert call.cause_chain[-1].startswith("Session.execute (tests/audit/test_drivers.py:")
    with TestClient(app) as client:  # the audited app is a real, working app
        assert client.get("/fine").json() == 2
        assert client.get("/fine-async").json() == 3
