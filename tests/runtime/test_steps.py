"""Per-layer step timing inside real FastAPI apps: what it catches, what it must not, and cleanup.

Blocking work lasts 100 ms or more against a 30 ms threshold; nothing here asserts on speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import sqlite3
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    MutableMapping,
)
from pathlib import Path
from typing import Any

import aiosqlite
import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from fastapi_boundary import (
    AsyncRepository,
    AsyncService,
    BoundaryError,
    SyncRepository,
    run_blocking,
)
from fastapi_boundary._common.declarations import TIMED_ATTR
from fastapi_boundary._common.errors import BlockingCallError
from fastapi_boundary._common.modes import Mode
from fastapi_boundary._runtime import detection as detection_module
from fastapi_boundary._runtime import step_timing
from fastapi_boundary._runtime.detection import Detection
from fastapi_boundary._runtime.request_scope import bind_scope, unbind_scope
from tests.helpers import cpu_loop, line_of

BLOCK = 0.1
THRESHOLD = 0.03  # generous: a shared, loaded CI machine must not make a healthy step this long
HERE = Path(__file__).name

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class BindScope:
    """What the monitor middleware (or the guard) does per request: bind the ASGI scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        token = bind_scope(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            unbind_scope(token)


# --- the layers under test ------------------------------------------------------------


class FakeAsyncRepository(AsyncRepository):
    async def get(self, item_id: int) -> int:
        time.sleep(BLOCK)  # the fake async
        return item_id


class HonestRepository(AsyncRepository):
    async def get(self, item_id: int) -> int:
        await anyio.sleep(BLOCK)
        return item_id

    async def asyncio_get(self, item_id: int) -> int:
        await asyncio.sleep(BLOCK)
        return item_id

    async def offloaded(self, item_id: int) -> int:
        await run_blocking(time.sleep, BLOCK)
        return item_id


class ScoringService(AsyncService):
    def __init__(self, repo: FakeAsyncRepository) -> None:
        self.repo = repo

    async def score(self) -> int:
        await asyncio.sleep(0)
        return cpu_loop(BLOCK)  # CPU-heavy step

    async def digest(self) -> str:
        return hashlib.sha256(b"x" * (64 << 20)).hexdigest()  # hashing a large buffer

    async def nested(self, item_id: int) -> int:
        await asyncio.sleep(0)
        return await self.repo.get(item_id)


class SqlRepository(AsyncRepository):
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    async def count(self) -> int:
        query = text(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000) "
            "SELECT count(*) FROM c"
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())  # a sync query on the loop


class AioSqlRepository(AsyncRepository):
    def __init__(self, path: str) -> None:
        self.path = path

    async def count(self) -> int:
        async with aiosqlite.connect(self.path) as db:
            cursor = await db.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "WHERE x < 400000) SELECT count(*) FROM c"
            )
            row = await cursor.fetchone()
            assert row is not None
            return int(row[0])


class SyncItems(SyncRepository):
    def get(self, item_id: int) -> int:
        time.sleep(0.001)
        return item_id


class StreamRepository(AsyncRepository):
    async def fake_stream(self) -> AsyncIterator[int]:
        for number in range(2):
            time.sleep(BLOCK)  # blocks between items
            yield number

    async def honest_stream(self, cleaned: list[str]) -> AsyncGenerator[int, None]:
        try:
            for number in range(3):
                await anyio.sleep(0.001)
                yield number
        finally:
            cleaned.append("closed")


class EchoRepository(AsyncRepository):
    async def fail(self) -> None:
        await anyio.sleep(0)
        raise ValueError("from the repository")

    async def wait_long(self, cleaned: list[str]) -> None:
        try:
            await anyio.sleep(10)
        finally:
            cleaned.append("finally ran")

    async def defaults(self, a: int, b: int = 2, *, c: int = 3) -> int:
        return a + b + c

    async def positional(self, a: int, b: int = 20) -> int:
        return a + b

    @staticmethod
    async def static_block() -> None:
        time.sleep(BLOCK)

    @classmethod
    async def class_block(cls) -> None:
        time.sleep(BLOCK)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def caught() -> Iterator[list[Detection]]:
    """Step timing on, reporting into a list; switched off (and checked off) afterwards."""
    found: list[Detection] = []
    step_timing.activate(THRESHOLD, found.append)
    try:
        yield found
    finally:
        step_timing.deactivate()
    assert not step_timing.active


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BindScope)
    return app


def only(found: list[Detection]) -> Detection:
    assert len(found) == 1, found
    return found[0]


# --- caught -------------------------------------------------------------------------------


def test_fake_async_repository_is_caught_with_layer_route_and_line(
    caught: list[Detection],
) -> None:
    app = make_app()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await FakeAsyncRepository().get(item_id)

    response = TestClient(app).get("/items/7", params={"token": "s3cret"})
    assert response.json() == 7
    found = only(caught)
    assert found.kind == "step"
    assert found.category == "step"
    assert found.blocking == "FakeAsyncRepository.get"
    assert found.layer == "FakeAsyncRepository.get"
    assert found.layer_mode is Mode.ASYNC
    assert found.route == "GET /items/{item_id}"
    assert found.site is not None
    assert found.site.file.endswith(HERE)
    assert found.site.line == line_of(FakeAsyncRepository.get, "time.sleep")
    assert found.duration is not None and found.duration >= BLOCK * 0.9
    assert "run_blocking" in found.fix


def test_the_route_is_found_on_the_stack_when_no_scope_is_bound(
    caught: list[Detection],
) -> None:
    app = FastAPI()  # no middleware binds the scope: Starlette's frames hold it

    @app.get("/plain/{item_id}")
    async def read_item(item_id: int) -> int:
        await FakeAsyncRepository().get(item_id)
        return SyncItems().get(item_id)

    assert TestClient(app).get("/plain/2", params={"token": "x"}).json() == 2
    assert [(d.kind, d.route) for d in caught] == [
        ("step", "GET /plain/{item_id}"),
        ("call", "GET /plain/{item_id}"),
    ]


def test_cpu_heavy_service_step_is_caught(caught: list[Detection]) -> None:
    app = make_app()

    @app.get("/score")
    async def score() -> int:
        return await ScoringService(FakeAsyncRepository()).score()

    assert TestClient(app).get("/score").status_code == 200
    found = only(caught)
    assert found.blocking == "ScoringService.score"
    assert found.route == "GET /score"
    assert found.site is not None
    assert found.site.line == line_of(ScoringService.score, "cpu_loop(BLOCK)")


def test_hashing_a_large_buffer_is_caught(caught: list[Detection]) -> None:
    app = make_app()

    @app.get("/digest")
    async def digest() -> str:
        return await ScoringService(FakeAsyncRepository()).digest()

    assert TestClient(app).get("/digest").status_code == 200
    found = only(caught)
    assert found.blocking == "ScoringService.digest"
    assert found.site is not None
    assert found.site.line == line_of(ScoringService.digest, "hashlib.sha256")


def test_sync_sqlalchemy_query_in_an_async_layer_is_caught(
    caught: list[Detection], tmp_path: Path
) -> None:
    app = make_app()
    repo = SqlRepository(f"sqlite:///{tmp_path / 'db.sqlite'}")

    @app.get("/count")
    async def count() -> int:
        return await repo.count()

    assert TestClient(app).get("/count").json() == 400000
    found = only(caught)
    assert found.blocking == "SqlRepository.count"
    assert found.route == "GET /count"
    assert found.site is not None
    assert found.site.line == line_of(SqlRepository.count, "connection.execute")


def test_nested_layers_report_once_at_the_innermost(caught: list[Detection]) -> None:
    app = make_app()

    @app.get("/nested/{item_id}")
    async def nested(item_id: int) -> int:
        return await ScoringService(FakeAsyncRepository()).nested(item_id)

    assert TestClient(app).get("/nested/3").json() == 3
    found = only(caught)
    assert found.blocking == "FakeAsyncRepository.get"
    assert found.route == "GET /nested/{item_id}"


def test_sync_layer_method_on_the_loop_is_a_blocking_call(caught: list[Detection]) -> None:
    app = make_app()

    @app.get("/sync/{item_id}")
    async def on_loop(item_id: int) -> int:
        return SyncItems().get(item_id)  # the mistake: a sync layer on the loop

    assert TestClient(app).get("/sync/4").json() == 4
    found = only(caught)
    assert found.kind == "call"
    assert found.category == "marked"
    assert found.blocking == "SyncItems.get"
    assert found.layer_mode is Mode.SYNC
    assert found.route == "GET /sync/{item_id}"
    assert found.site is not None
    assert found.site.line == line_of(on_loop, "SyncItems().get")
    # the same words as the mypy plugin's boundary-blocking-call for this call
    assert found.fix == (
        "offload it: `await run_blocking(SyncItems.get, ...)` or use `to_async(SyncItems)`, "
        "or make the endpoint `def`"
    )


def test_static_and_class_methods_are_timed(caught: list[Detection]) -> None:
    async def main() -> None:
        await EchoRepository.static_block()
        await EchoRepository().class_block()

    asyncio.run(main())
    assert [d.blocking for d in caught] == [
        "EchoRepository.static_block",
        "EchoRepository.class_block",
    ]


def test_strict_report_raises_into_the_request_with_the_full_message() -> None:
    app = make_app()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await FakeAsyncRepository().get(item_id)

    detection_module.set_policy("strict")
    step_timing.activate(THRESHOLD, detection_module.report)
    try:
        with pytest.raises(BlockingCallError) as raised:
            TestClient(app).get("/items/1?password=hunter2")
    finally:
        step_timing.deactivate()
        detection_module.set_policy("off")
        detection_module.recorder.clear()
    message = str(raised.value)
    assert "FakeAsyncRepository.get" in message
    assert f"{HERE}:{line_of(FakeAsyncRepository.get, 'time.sleep')}" in message
    assert "GET /items/{item_id}" in message
    assert "async layer" in message
    assert "Fix:" in message and "run_blocking" in message
    assert "hunter2" not in message


def test_async_endpoints_and_dependencies_are_timed_when_asked(caught: list[Detection]) -> None:
    app = make_app()

    async def current_user() -> str:
        time.sleep(BLOCK)  # a fake-async dependency
        return "ada"

    @app.get("/me")
    async def me(user: str = Depends(current_user)) -> str:
        cpu_loop(BLOCK)  # a blocking endpoint
        return user

    step_timing.instrument_app(app)
    assert TestClient(app).get("/me").json() == "ada"
    assert [d.blocking for d in caught] == [
        "current_user (dependency of /me)",
        "me (endpoint of /me)",
    ]
    assert caught[0].site is not None
    assert caught[0].site.line == line_of(current_user, "time.sleep")
    assert caught[1].route == "GET /me"


def test_endpoints_of_included_routers_are_timed(caught: list[Detection]) -> None:
    """FastAPI >= 0.165 serves an included router's routes through effective contexts of their
    own: those are what step timing wraps, or nothing of an included router would be timed."""
    app = make_app()
    inner = APIRouter()

    async def current_user() -> str:
        time.sleep(BLOCK)
        return "ada"

    @inner.get("/me")
    async def me(user: str = Depends(current_user)) -> str:
        cpu_loop(BLOCK)
        return user

    outer = APIRouter()
    outer.include_router(inner, prefix="/users")
    app.include_router(outer, prefix="/v1")
    step_timing.instrument_app(app)
    assert TestClient(app).get("/v1/users/me").json() == "ada"
    assert [d.blocking for d in caught] == [
        "current_user (dependency of /v1/users/me)",
        "me (endpoint of /v1/users/me)",
    ]
    assert caught[1].route == "GET /v1/users/me"


SLOW_QUERY = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 2000000) "
    "SELECT count(*) FROM n"
)


def test_a_c_level_call_nothing_can_wrap_is_named_at_its_python_line(
    caught: list[Detection],
) -> None:
    """``sqlite3.Cursor.execute`` lives on a C type: no wrapper, no audit event; the slow
    step is caught and named at the line of the endpoint that made the call."""
    app = make_app()
    connection = sqlite3.connect(":memory:", check_same_thread=False)

    @app.get("/count")
    async def count() -> int:
        cursor = connection.cursor()
        return int(cursor.execute(SLOW_QUERY).fetchone()[0])  # a C call: seconds of SQLite

    step_timing.instrument_app(app)
    try:
        assert TestClient(app).get("/count").json() == 2_000_000
    finally:
        connection.close()
    found = only(caught)
    assert found.blocking == "count (endpoint of /count)"
    assert found.route == "GET /count"
    assert found.site is not None
    assert found.site.file.endswith(HERE)
    assert found.site.line == line_of(count, "SLOW_QUERY")
    assert found.function is not None and found.function.endswith("count")


def test_dependency_overrides_still_apply_to_timed_dependencies(caught: list[Detection]) -> None:
    app = make_app()

    async def current_user() -> str:
        return "real"

    async def fake_user() -> str:
        return "fake"

    @app.get("/me")
    async def me(user: str = Depends(current_user)) -> str:
        return user

    step_timing.instrument_app(app)
    app.dependency_overrides[current_user] = fake_user
    assert TestClient(app).get("/me").json() == "fake"
    assert caught == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_step_timing_works_on_asyncio_and_trio(caught: list[Detection]) -> None:
    await HonestRepository().get(1)
    assert caught == []
    await FakeAsyncRepository().get(1)
    SyncItems().get(1)
    assert [(d.kind, d.blocking) for d in caught] == [
        ("step", "FakeAsyncRepository.get"),
        ("call", "SyncItems.get"),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_errors_and_cancellation_pass_through_the_driver(caught: list[Detection]) -> None:
    with pytest.raises(ValueError, match="from the repository"):
        await EchoRepository().fail()
    cleaned: list[str] = []
    with anyio.move_on_after(0.02):
        await EchoRepository().wait_long(cleaned)
    assert cleaned == ["finally ran"]
    assert caught == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_async_generator_methods_are_timed_item_by_item(caught: list[Detection]) -> None:
    assert [n async for n in StreamRepository().fake_stream()] == [0, 1]
    assert [d.blocking for d in caught] == ["StreamRepository.fake_stream"] * 2
    assert caught[0].site is not None
    assert caught[0].site.line == line_of(StreamRepository.fake_stream, "time.sleep")
    caught.clear()
    cleaned: list[str] = []
    stream = StreamRepository().honest_stream(cleaned)
    assert await stream.__anext__() == 0
    assert await stream.asend(None) == 1
    await stream.aclose()
    assert cleaned == ["closed"]
    assert caught == []


# --- must report nothing ----------------------------------------------------------------


def test_correct_async_code_and_offloaded_work_report_nothing(
    caught: list[Detection], tmp_path: Path
) -> None:
    app = make_app()
    path = str(tmp_path / "db.sqlite")
    sqlite3.connect(path).close()

    @app.get("/honest")
    async def honest() -> int:
        repo = HonestRepository()
        return await repo.get(1) + await repo.asyncio_get(0) + await repo.offloaded(2)

    @app.get("/aiosqlite")
    async def aio() -> int:
        return await AioSqlRepository(path).count()

    @app.get("/worker/{item_id}")
    async def worker(item_id: int) -> int:
        return await run_blocking(SyncItems().get, item_id)  # a sync layer in a worker thread

    @app.get("/def/{item_id}")
    def threadpool(item_id: int) -> int:
        return SyncItems().get(item_id)  # a def endpoint: FastAPI's threadpool

    step_timing.instrument_app(app)
    client = TestClient(app)
    assert client.get("/honest").json() == 3
    assert client.get("/aiosqlite").json() == 400000
    assert client.get("/worker/5").json() == 5
    assert client.get("/def/6").json() == 6
    assert caught == []


# --- on and off -------------------------------------------------------------------------


def test_off_means_no_wrapper_and_deactivate_restores_every_original() -> None:
    get = FakeAsyncRepository.__dict__["get"]
    sync_get = SyncItems.__dict__["get"]
    static = EchoRepository.__dict__["static_block"]
    stream = StreamRepository.__dict__["fake_stream"]
    app = make_app()

    @app.get("/x")
    async def endpoint() -> int:
        return 1

    route_call = app.routes[-1].dependant.call  # type: ignore[attr-defined]
    assert not step_timing.active
    assert FakeAsyncRepository.get is get

    step_timing.activate(THRESHOLD, lambda detection: None)
    step_timing.instrument_app(app)
    try:

        class CreatedMeanwhile(AsyncRepository):
            async def get(self) -> None:
                time.sleep(0)

        meanwhile = CreatedMeanwhile.__dict__["get"]
        assert FakeAsyncRepository.__dict__["get"] is not get
        assert SyncItems.__dict__["get"] is not sync_get
        assert EchoRepository.__dict__["static_block"] is not static
        assert StreamRepository.__dict__["fake_stream"] is not stream
        assert getattr(meanwhile, TIMED_ATTR, False)
        assert app.routes[-1].dependant.call is not route_call  # type: ignore[attr-defined]
    finally:
        step_timing.deactivate()
    assert FakeAsyncRepository.__dict__["get"] is get
    assert SyncItems.__dict__["get"] is sync_get
    assert EchoRepository.__dict__["static_block"] is static
    assert StreamRepository.__dict__["fake_stream"] is stream
    assert not getattr(CreatedMeanwhile.__dict__["get"], TIMED_ATTR, False)
    assert app.routes[-1].dependant.call is route_call  # type: ignore[attr-defined]
    assert step_timing.timed_apps() == []


def test_timed_methods_take_the_same_arguments(caught: list[Detection]) -> None:
    async def main() -> list[int]:
        repo = EchoRepository()
        return [
            await repo.positional(1),
            await repo.positional(1, 2),
            await repo.positional(a=1, b=3),
            await repo.defaults(1),
            await repo.defaults(1, c=10),
            await repo.defaults(a=1, b=1, c=1),
        ]

    assert asyncio.run(main()) == [21, 3, 4, 6, 13, 3]
    with pytest.raises(TypeError, match="positional"):
        EchoRepository().positional()  # type: ignore[call-arg, unused-coroutine]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_timed_methods_are_coroutine_functions_tasks_accept(
    caught: list[Detection], anyio_backend: str
) -> None:
    assert inspect.iscoroutinefunction(FakeAsyncRepository.get)
    assert inspect.iscoroutinefunction(EchoRepository.static_block)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(FakeAsyncRepository().get, 1)
    if anyio_backend == "asyncio":
        assert await asyncio.create_task(FakeAsyncRepository().get(2)) == 2
    assert {d.blocking for d in caught} == {"FakeAsyncRepository.get"}


def test_timed_methods_keep_their_identity_for_introspection(caught: list[Detection]) -> None:
    timed = FakeAsyncRepository.get
    assert timed.__name__ == "get"
    assert timed.__qualname__ == "FakeAsyncRepository.get"
    assert inspect.unwrap(timed) is not timed


def test_sampling_times_only_the_drawn_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    found: list[Detection] = []
    draws = iter([0.9, 0.1])  # the first call is not drawn at rate 0.5, the second is
    monkeypatch.setattr(step_timing, "sample_draw", lambda: next(draws))
    step_timing.attach("sampled", step_timing.Sink(THRESHOLD, found.append, sample_rate=0.5))
    try:

        async def main() -> None:
            await FakeAsyncRepository().get(1)
            await FakeAsyncRepository().get(2)

        asyncio.run(main())
    finally:
        step_timing.detach("sampled")
    assert len(found) == 1


@pytest.mark.parametrize("threshold", [-1, 0, "10ms", True])
def test_a_bad_threshold_is_an_error_at_once(threshold: Any) -> None:
    with pytest.raises(BoundaryError, match=r"activate\(threshold=\.\.\.\) must be a number"):
        step_timing.activate(threshold, lambda detection: None)
    assert not step_timing.active
