"""The guard on a real suite: true detections only, the "who" kept, and behaviour unchanged.

Issue 11, item 5: FastAPI's own file reads are never blamed on a user's middleware, a
private loop in a worker thread is reported as the mistake it is (not what runs on it),
background tasks are judged by what they are, endpoint timing never changes what FastAPI
validates; and item 4: a dev server's start-up never hides a request's detection, a
first call's imports are never a slow step.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload
from sqlalchemy.pool import StaticPool
from starlette.types import ASGIApp, Receive, Scope, Send

from fastapi_boundary import AsyncService
from fastapi_boundary._runtime.guard import guarded
from tests.helpers import cpu_loop, line_of

HERE = f"tests/runtime/{Path(__file__).name}"


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # sites relative to the root


# --- framework internals are the framework's ----------------------------------------------


class PassThrough:
    """A pure ASGI middleware a test adds: FastAPI's work runs below its frame."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class Checking(PassThrough):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        os.path.exists("/etc/maintenance")  # the middleware's own blocking call
        await self.app(scope, receive, send)


def _app(middleware: type[PassThrough]) -> FastAPI:
    app = FastAPI()
    app.add_middleware(middleware)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


def test_fastapi_own_file_reads_are_not_blamed_on_a_middleware() -> None:
    with guarded("strict") as recorder, TestClient(_app(PassThrough)) as client:
        assert client.get("/items/1").json() == {"id": 1}
        assert client.get("/items/x").status_code == 422
    assert recorder.detections == []


def test_a_middleware_that_blocks_is_still_named() -> None:
    with guarded("warn") as recorder, TestClient(_app(Checking)) as client:
        client.get("/items/1")
    start_up, request = recorder.detections  # the middleware runs for the lifespan too
    for found in (start_up, request):
        assert found.blocking == "os.path.exists"
        assert str(found.site) == f"{HERE}:{line_of(Checking.__call__, 'os.path.exists')}"
        assert found.function == f"{__name__}.Checking.__call__"
    assert start_up.route is None
    assert request.route is not None
    assert request.route.startswith("GET ")  # before routing: the path is not matched yet


# --- a private loop in a worker thread -----------------------------------------------------


async def _work() -> int:
    time.sleep(0.001)  # on the private loop: stalls nobody else, not reported
    return 1


def test_asyncio_run_in_a_def_endpoint_is_the_mistake_reported() -> None:
    app = FastAPI()

    @app.get("/run")
    def run() -> int:
        return asyncio.run(_work())

    @app.get("/until")
    def until() -> int:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(_work())
        finally:
            loop.close()

    @app.get("/blocks")
    async def blocks() -> None:
        time.sleep(0.001)  # the app's loop: still caught (anyio 3's portal runs in an executor)

    with guarded("warn") as recorder, TestClient(app) as client:
        assert client.get("/run").json() == 1
        assert client.get("/until").json() == 1
        client.get("/blocks")
    found = [(d.blocking, d.category, d.route) for d in recorder.detections]
    assert found == [
        ("asyncio.run", "loop", "GET /run"),
        ("loop.run_until_complete", "loop", "GET /until"),
        ("time.sleep", "sleep", "GET /blocks"),
    ]
    first = recorder.detections[0]
    assert str(first.site) == f"{HERE}:{line_of(run, 'asyncio.run(')}"
    assert "anyio.from_thread.run" in first.fix
    with guarded("strict"), TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/run").status_code == 500


# --- background tasks ------------------------------------------------------------------------


def send_mail(to: str) -> None:
    time.sleep(0.001)  # sync: Starlette runs a def task in its threadpool


async def notify(to: str) -> None:
    send_mail(to)  # an async task that blocks: on the loop, after the response


def test_background_tasks_are_judged_by_what_they_are() -> None:
    app = FastAPI()

    @app.post("/sync-task")
    async def sync_task(tasks: BackgroundTasks) -> None:
        tasks.add_task(send_mail, "a@example.com")

    @app.post("/async-task")
    async def async_task(tasks: BackgroundTasks) -> None:
        tasks.add_task(notify, "a@example.com")

    with guarded("warn") as recorder, TestClient(app) as client:
        client.post("/sync-task")
        assert recorder.detections == []
        client.post("/async-task")
    (found,) = recorder.detections
    assert (found.blocking, found.function) == ("time.sleep", f"{__name__}.notify")
    assert found.route == "POST /async-task"
    (cause,) = recorder.causes()
    assert cause.describe().startswith(
        f"{__name__}.notify ({HERE}:{line_of(notify, 'async def notify')}) calls time.sleep"
    )


# --- endpoint timing never changes what FastAPI validates -----------------------------------


class Item(BaseModel):
    name: str
    price: float


class Public(BaseModel):
    name: str


def _validating_app() -> FastAPI:
    app = FastAPI()

    async def get_limit(limit: int = 10) -> int:
        return limit

    @app.post("/items", response_model=Public)
    async def create(item: Item, limit: int = 10) -> Any:
        return {"name": item.name, "secret": "never shown", "limit": limit}

    @app.get("/bad", response_model=Public)
    async def bad() -> Any:
        return {"nothing": "here"}

    @app.get("/limited")
    async def limited(limit: Any = None) -> Any:
        return {"limit": limit}

    from fastapi import Depends

    @app.get("/dep")
    async def dep(limit: int = Depends(get_limit)) -> dict[str, int]:
        return {"limit": limit}

    return app


def _answers(endpoints: bool | None) -> list[tuple[int, Any]]:
    app = _validating_app()
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/items", {"name": "a", "price": 1}),
        ("POST", "/items", {"name": "a"}),
        ("POST", "/items?limit=x", {"name": "a", "price": 1}),
        ("GET", "/dep?limit=3", None),
        ("GET", "/dep?limit=x", None),
    ]
    answers = []

    def run() -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            for method, path, body in requests:
                response = client.request(method, path, json=body)
                answers.append((response.status_code, response.json()))
            answers.append((client.get("/bad").status_code, None))

    if endpoints is None:
        run()
    else:
        with guarded("warn", endpoints=endpoints):
            run()
    return answers


def test_endpoint_timing_never_changes_what_fastapi_validates() -> None:
    plain = _answers(None)
    assert plain[0] == (200, {"name": "a"})
    assert plain[1][0] == plain[2][0] == plain[4][0] == 422
    assert plain[5] == (500, None)  # ResponseValidationError: the server's error
    assert _answers(False) == plain
    assert _answers(True) == plain


# --- item 4: start-up and requests, warm-up imports -----------------------------------------


def load_settings() -> None:
    time.sleep(0.001)  # shared: at start-up and per request


def test_start_up_detections_never_swallow_per_request_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await settings()
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/settings")
    async def settings() -> None:
        load_settings()

    with (
        caplog.at_level(logging.WARNING, "fastapi_boundary.guard"),
        guarded("warn"),
        TestClient(app) as client,
    ):
        client.get("/settings")
        client.get("/settings")
    warned = [r.getMessage() for r in caplog.records if r.name == "fastapi_boundary.guard"]
    assert len(warned) == 2  # once at start-up, once for the requests
    assert "while serving GET /settings" in warned[1]
    assert "while serving" not in warned[0]


SLOW_IMPORT = """
from tests.helpers import cpu_loop

cpu_loop(0.2)  # a heavy module: imported on the first call only
"""


class Reports(AsyncService):
    async def first_call(self) -> int:
        import boundary_heavy_module  # type: ignore[import-not-found]  # noqa: F401

        return 1

    async def slow(self) -> int:
        return cpu_loop(0.2)

    async def collects(self, garbage: list[Any]) -> int:
        gc.collect()  # the collector's pause, wherever it falls: never the step's
        return len(garbage)


@pytest.fixture
def heavy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "boundary_heavy_module.py").write_text(textwrap.dedent(SLOW_IMPORT))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("boundary_heavy_module", None)


def test_a_first_call_that_imports_is_no_slow_step(heavy_module: None) -> None:
    service = Reports()
    with guarded("warn", threshold=0.05) as recorder:
        asyncio.run(service.first_call())
        assert recorder.steps == []
        asyncio.run(service.slow())  # the twin: the same time in its own code
    (step,) = recorder.steps
    assert step.blocking == "Reports.slow"


# --- MissingGreenlet, explained ----------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


class Pet(Base):
    __tablename__ = "pets"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner: Mapped[Owner] = relationship()


def _pets_app() -> FastAPI:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with sessions() as session:
            session.add_all([Owner(id=1, name="ann"), Pet(id=1, owner_id=1)])
            await session.commit()
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/pets/{pet_id}/owner")
    async def pet_owner(pet_id: int) -> str:
        async with sessions() as session:
            pet = await session.get(Pet, pet_id)
            assert pet is not None
            return pet.owner.name  # a lazy load under an AsyncSession

    @app.get("/pets/{pet_id}/owner-loaded")
    async def pet_owner_loaded(pet_id: int) -> str:
        async with sessions() as session:
            pet = await session.get(Pet, pet_id, options=[selectinload(Pet.owner)])
            assert pet is not None
            return pet.owner.name

    return app


# SQLAlchemy's aiosqlite adapter leaves its cursor coroutine un-awaited when the lazy load fails
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_missing_greenlet_is_raised_again_with_the_attribute_route_and_fix() -> None:
    app = _pets_app()
    with guarded("warn"), TestClient(app) as client:
        assert client.get("/pets/1/owner-loaded").json() == "ann"
        with pytest.raises(MissingGreenlet) as caught:
            client.get("/pets/1/owner")
    message = str(caught.value)
    line = line_of(Path(__file__), "return pet.owner.name  # a lazy load")
    assert message.startswith(
        f"Pet.owner was loaded lazily, on attribute access, under an AsyncSession at "
        f"{HERE}:{line} while serving GET /pets/{{pet_id}}/owner: "
    )
    assert "selectinload(Pet.owner)" in message
    assert "await obj.awaitable_attrs.owner" in message
    with TestClient(app) as client, pytest.raises(Exception) as plain:  # noqa: PT011
        client.get("/pets/1/owner")
    assert "greenlet_spawn has not been called" in str(plain.value)  # the guard off: as it was
    del caught, plain  # their tracebacks hold the adapter's un-awaited cursor coroutines
    gc.collect()  # collected here, under this test's filters, not in a later test


def test_a_collection_pause_is_no_slow_step() -> None:
    garbage: list[Any] = [[index] for index in range(300_000)]  # a heap worth traversing
    service = Reports()
    with guarded("warn", threshold=0.001) as recorder:
        asyncio.run(service.collects(garbage))
    assert recorder.steps == []
