"""The guard's switch, mechanisms, exemptions and baseline, and that it leaves nothing behind."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from time import sleep

import anyio
import httpx
import pytest
import requests
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette

from fastapi_boundary import (
    AsyncRepository,
    SyncRepository,
    blocking,
    run_blocking,
)
from fastapi_boundary._common import catalog as _catalog
from fastapi_boundary._common.errors import BlockingCallError, BoundaryError
from fastapi_boundary._common.sites import Site
from fastapi_boundary._offload.process_pool import run_cpu
from fastapi_boundary._runtime import detection as _detection
from fastapi_boundary._runtime import guard as _guard
from fastapi_boundary._runtime.detection import Detection, Recorder
from fastapi_boundary._runtime.exemptions import (
    Exemption,
    Exemptions,
    load_baseline,
    parse_exemptions,
    write_baseline,
)
from fastapi_boundary._runtime.guard import guarded
from tests.helpers import cpu_loop
from tests.samples import process_marked

HERE = Path(__file__).name


def on_loop(function: object, *args: object) -> object:
    """Run a sync callable inside a coroutine on a fresh asyncio loop."""

    async def main() -> object:
        return function(*args)  # type: ignore[operator]

    return asyncio.run(main())


@pytest.fixture
def warn() -> Iterator[Recorder]:
    with guarded("warn") as recorder:
        recorder.clear()
        yield recorder


# --- the switch ------------------------------------------------------------------------


def test_disable_restores_every_original() -> None:
    originals = {
        "os.stat": os.stat,
        "time.sleep": time.sleep,
        "sleep": sleep,
        "connect": socket.socket.__dict__.get("connect"),
        "requests.get": requests.get,
        "run_forever": asyncio.BaseEventLoop.run_forever,
        "starlette": Starlette.__call__,
    }
    with guarded("strict"):
        assert os.stat is not originals["os.stat"]
        assert sys.modules[__name__].sleep is not originals["sleep"]  # re-bound early name
        assert "connect" in socket.socket.__dict__
        assert Starlette.__call__ is not originals["starlette"]
    assert os.stat is originals["os.stat"]
    assert time.sleep is originals["time.sleep"]
    assert sys.modules[__name__].sleep is originals["sleep"]
    assert socket.socket.__dict__.get("connect") is originals["connect"]
    assert requests.get is originals["requests.get"]
    assert asyncio.BaseEventLoop.run_forever is originals["run_forever"]
    assert Starlette.__call__ is originals["starlette"]
    assert not _guard.is_enabled()


def test_off_mode_patches_nothing() -> None:
    stat = os.stat
    with guarded("off"):
        assert os.stat is stat
        on_loop(time.sleep, 0.001)
    assert _detection.recorder.detections == []


def test_a_bad_mode_is_an_error_naming_the_choices() -> None:
    with pytest.raises(BoundaryError, match=r"strict, warn, off; got 'loud'. Fix: enable"):
        _guard.enable("loud")  # type: ignore[arg-type]


def test_blocking_calls_off_the_loop_are_not_reported(warn: Recorder) -> None:
    time.sleep(0.001)  # the main thread runs no loop
    os.stat(".")
    thread = threading.Thread(target=time.sleep, args=(0.001,))
    thread.start()
    thread.join()
    assert warn.detections == []


def test_enable_inside_a_running_loop_guards_that_loop() -> None:
    async def main() -> list[str]:
        with guarded("warn") as recorder:
            recorder.clear()
            time.sleep(0.001)
            return recorder.names()

    assert asyncio.run(main()) == ["time.sleep"]


# --- what the slow path lets through ---------------------------------------------------


def test_calls_that_cannot_block_are_not_reported(warn: Recorder) -> None:
    async def main() -> None:
        jobs: queue.Queue[int] = queue.Queue()
        jobs.put_nowait(1)
        jobs.get(block=False)
        event = threading.Event()
        event.set()
        event.wait()
        left, right = socket.socketpair()
        with left, right:
            left.setblocking(False)
            with pytest.raises(BlockingIOError):
                left.recv(1)
        await anyio.sleep(0)

    asyncio.run(main())
    assert warn.detections == []


def test_a_waiting_queue_get_is_reported(warn: Recorder) -> None:
    async def main() -> None:
        with pytest.raises(queue.Empty):
            queue.Queue().get(timeout=0.001)

    asyncio.run(main())
    assert warn.names() == ["queue.Queue.get"]


def test_waits_that_return_at_once_are_not_reported(warn: Recorder) -> None:
    async def main() -> None:
        free = threading.Semaphore(1)
        assert free.acquire(timeout=1.0)  # free: returns at once
        unbounded: queue.Queue[int] = queue.Queue()
        unbounded.put(1)  # never waits
        assert unbounded.get(timeout=1.0) == 1  # an item is there
        bounded: queue.Queue[int] = queue.Queue(maxsize=1)
        bounded.put(1)  # room left: returns at once
        with pytest.raises(queue.Full):
            bounded.put(2, timeout=0.001)  # full: this one waits

    asyncio.run(main())
    assert warn.names() == ["queue.Queue.put"]


def test_a_taken_semaphore_is_reported(warn: Recorder) -> None:
    async def main() -> None:
        taken = threading.Semaphore(0)
        assert not taken.acquire(timeout=0.001)

    asyncio.run(main())
    assert warn.names() == ["threading.Semaphore.acquire"]


async def _async_sqlalchemy_round_trip() -> list[str]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with AsyncSession(engine) as session:
            await session.execute(text("create table t (name text)"))
            await session.execute(text("insert into t values ('a'), ('b')"))
            await session.commit()
            rows = await session.execute(text("select name from t order by name"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


def test_async_sqlalchemy_is_not_reported() -> None:
    """AsyncSession runs the sync core in a greenlet on the loop, doing I/O through aiosqlite."""
    with guarded("strict") as recorder:
        recorder.clear()
        assert asyncio.run(_async_sqlalchemy_round_trip()) == ["a", "b"]
        assert recorder.detections == []


def test_a_blocking_call_inside_the_async_engines_greenlet_is_still_reported() -> None:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    async def main() -> None:
        engine = create_async_engine("sqlite+aiosqlite://")

        @event.listens_for(engine.sync_engine, "connect")
        def slow_listener(*_: object) -> None:
            time.sleep(0.001)  # user code run by the sync core: not SQLAlchemy's own I/O

        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    with guarded("warn") as recorder:
        recorder.clear()
        asyncio.run(main())
        assert recorder.names() == ["time.sleep"]


def test_reads_of_an_open_file_are_a_documented_limit(tmp_path: Path, warn: Recorder) -> None:
    """``_io.TextIOWrapper`` is a C type: interception sees the open, not later reads."""
    path = tmp_path / "f.txt"
    path.write_text("data")
    file = path.open()  # opened off the loop

    async def main() -> str:
        return file.read()

    try:
        assert asyncio.run(main()) == "data"
    finally:
        file.close()
    assert warn.detections == []


# --- warn mode ---------------------------------------------------------------------------


def test_warn_logs_once_per_callable_and_line(
    warn: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        for _ in range(3):
            time.sleep(0.001)

    with caplog.at_level(logging.WARNING, logger="fastapi_boundary.guard"):
        asyncio.run(main())
    assert warn.names() == ["time.sleep"] * 3
    assert len(caplog.records) == 1
    assert "blocking call time.sleep (sleep)" in caplog.records[0].getMessage()
    assert f"{HERE}:" in caplog.records[0].getMessage()


# --- names bound before and after the guard was switched on ------------------------------


def test_a_module_imported_after_enable_is_caught_at_the_next_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late_module.py").write_text(
        "from time import sleep\n\nasync def handler():\n    sleep(0.001)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with guarded("warn") as recorder:
        recorder.clear()
        module = importlib.import_module("late_module")
        asyncio.run(module.handler())
        names = recorder.names()
    del sys.modules["late_module"]
    assert names == ["time.sleep"]


def test_user_catalogue_entries_are_caught_and_forgotten_on_disable() -> None:
    with guarded("warn", blocking={f"{__name__}.vendor_call": "net: use vendor.aio"}) as found:
        found.clear()
        on_loop(sys.modules[__name__].vendor_call)
        assert [(d.blocking, d.category, d.fix) for d in found.detections] == [
            (f"{__name__}.vendor_call", "net", "use vendor.aio")
        ]
    assert _catalog.lookup(f"{__name__}.vendor_call") is None


def vendor_call() -> int:
    return 1


# --- marked callables ----------------------------------------------------------------------


def test_blocking_marked_while_on_is_caught_on_the_loop_only() -> None:
    with guarded("warn") as recorder:
        recorder.clear()

        @blocking
        def legacy(x: int) -> int:
            return x

        async def main() -> int:
            return legacy(1) + await run_blocking(legacy, 2)

        assert asyncio.run(main()) == 3
        assert [d.category for d in recorder.detections] == ["marked"]
        assert recorder.detections[0].blocking.endswith("legacy")
        assert "run_blocking(legacy, ...)" in recorder.detections[0].fix


def test_blocking_returns_the_function_itself_when_off() -> None:
    def plain() -> None:
        pass

    assert blocking(plain) is plain


def test_cpu_bound_functions_stay_runnable_in_processes_while_guarded() -> None:
    with guarded("strict"):
        assert "__boundary_original__" in process_marked.scaled_sum.__dict__  # re-bound

        async def main() -> tuple[int, int]:
            return await run_cpu(process_marked.scaled_sum, 2, 3, scale=2)

        pid, value = anyio.run(main)
        assert value == 10 and pid != os.getpid()
    assert "__boundary_original__" not in process_marked.scaled_sum.__dict__


# --- exemptions and the baseline -------------------------------------------------------


class LegacyRepository(AsyncRepository):
    async def get(self) -> None:
        time.sleep(0.001)


def test_exemptions_by_name_by_layer_and_both() -> None:
    specs = {
        "os.stat": "config files are read once",
        "LegacyRepository": "rewritten in #12",
        "queue.Queue.get@Nowhere.method": "never in this layer",
    }
    with guarded("strict", exemptions=specs) as recorder:
        recorder.clear()

        async def main() -> None:
            os.stat(".")
            await LegacyRepository().get()

        asyncio.run(main())
        exempted = [(d.blocking, reason) for d, reason in recorder.exempted]
        assert ("os.stat", "config files are read once") in exempted
        assert ("time.sleep", "rewritten in #12") in exempted
        stale = _guard.exemptions().stale()
    assert [str(item) for item in stale] == [
        "queue.Queue.get in Nowhere.method (enable(exemptions=...): never in this layer)"
    ]


def test_an_exemption_needs_a_reason() -> None:
    with pytest.raises(BoundaryError, match=r"needs a qualified name \(or layer\) and a reason"):
        parse_exemptions(["time.sleep ="])


def test_baseline_round_trip(tmp_path: Path) -> None:
    detection = Detection(
        "call",
        "time.sleep",
        "sleep",
        Site("app.py", 3),
        "GET /items/{item_id}",
        "ItemRepository.get",
        None,
        None,
        "use anyio.sleep",
    )
    path = tmp_path / "baseline.json"
    written = write_baseline(path, [detection, detection])
    assert json.loads(path.read_text()) == {
        "version": 1,
        "exemptions": [
            {
                "name": "time.sleep",
                "reason": "baseline: GET /items/{item_id} at app.py:3",
                "layer": "ItemRepository.get",
            }
        ],
    }
    loaded = load_baseline(path)
    assert [(e.name, e.layer) for e in loaded] == [(e.name, e.layer) for e in written]
    exemptions = Exemptions(loaded)
    assert exemptions(detection) == "baseline: GET /items/{item_id} at app.py:3"
    assert exemptions.stale() == []
    assert load_baseline(tmp_path / "missing.json") == []


def test_a_broken_baseline_says_how_to_rewrite_it(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("{}")
    with pytest.raises(BoundaryError, match=r"--update-baseline"):
        load_baseline(path)


def test_exemption_layer_matching() -> None:
    base = Detection("call", "time.sleep", "sleep", None, None, "Repo.get", None, None, "")
    assert Exemption("Repo", "r").matches(base)
    assert Exemption("Repo.get", "r").matches(base)
    assert not Exemption("Repo.getter", "r").matches(base)
    assert Exemption("time.sleep", "r", layer="Repo").matches(base)
    assert not Exemption("time.sleep", "r", layer="Other").matches(base)


# --- servers in development ---------------------------------------------------------------


@pytest.mark.slow
def test_uvicorn_in_development_reports_the_route() -> None:
    app = FastAPI()

    @app.get("/slow/{item_id}")
    async def slow(item_id: int) -> int:
        time.sleep(0.001)
        return item_id

    with guarded("warn") as recorder:
        recorder.clear()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
        )
        thread = threading.Thread(target=server.run)
        thread.start()
        try:
            while not server.started:
                time.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            assert httpx.get(f"http://127.0.0.1:{port}/slow/3").json() == 3
        finally:
            server.should_exit = True
            thread.join()
        found = [(d.blocking, d.route) for d in recorder.detections]
    assert found == [("time.sleep", "GET /slow/{item_id}")]


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_uvicorn_on_each_loop_reports_the_route(loop: str) -> None:
    """uvloop's run_forever is C (not patched): requests are registered by the app wrapper."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    app = FastAPI()

    @app.get("/slow")
    async def slow() -> str:
        time.sleep(0.001)
        return type(asyncio.get_running_loop()).__module__.partition(".")[0]

    with guarded("warn") as recorder:
        recorder.clear()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="error", lifespan="off", loop=loop
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run)
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive(), "uvicorn did not start"
                time.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            served_by = httpx.get(f"http://127.0.0.1:{port}/slow").json()
        finally:
            server.should_exit = True
            thread.join()
        found = [(d.blocking, d.route) for d in recorder.detections]
    assert served_by == loop
    assert found == [("time.sleep", "GET /slow")]


def test_enable_on_a_running_uvloop_guards_it() -> None:
    async def main() -> list[str]:
        with guarded("warn") as recorder:
            recorder.clear()
            time.sleep(0.001)
            await asyncio.sleep(0)
            return recorder.names()

    uvloop = pytest.importorskip("uvloop")
    assert uvloop.run(main()) == ["time.sleep"]


def test_strict_error_is_a_boundary_error_and_runtime_error() -> None:
    with guarded("strict"), pytest.raises(BlockingCallError) as raised:
        on_loop(os.stat, ".")
    assert isinstance(raised.value, BoundaryError)
    assert isinstance(raised.value, RuntimeError)
    assert str(raised.value).startswith("blocking call os.stat (file) on the event loop thread")
    assert f"{HERE}:" in str(raised.value)


def test_wrappers_accept_exactly_what_the_originals_accept(tmp_path: Path) -> None:
    def outcome(call: object) -> object:
        try:
            return type(call())  # type: ignore[operator]
        except TypeError as error:
            return ("TypeError", str(error))

    calls = [
        lambda: os.stat(tmp_path),
        lambda: os.stat(path=tmp_path),
        lambda: os.stat(tmp_path, follow_symlinks=False),
        lambda: os.stat(tmp_path, None),  # type: ignore[call-arg]
        lambda: os.stat(tmp_path, nope=1),  # type: ignore[call-arg]
        lambda: os.stat(),  # type: ignore[call-arg]
        lambda: time.sleep(),  # type: ignore[call-arg]
        lambda: socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM),
    ]
    plain = [outcome(call) for call in calls]
    with guarded("strict"):
        assert os.stat is not os.stat.__wrapped__  # type: ignore[attr-defined]
        guarded_outcomes = [outcome(call) for call in calls]
    assert [kind if not isinstance(kind, tuple) else kind[0] for kind in guarded_outcomes] == [
        kind if not isinstance(kind, tuple) else kind[0] for kind in plain
    ]
    assert guarded_outcomes[3] == plain[3]  # the original's own "positional argument" error


def test_a_bad_threshold_or_entry_leaves_nothing_switched_on() -> None:
    stat = os.stat
    with pytest.raises(BoundaryError, match="threshold"):
        _guard.enable("strict", threshold=-1)
    with pytest.raises(BoundaryError, match="cannot add 'x.y' = 'nonsense'"):
        _guard.enable("strict", blocking={"x.y": "nonsense"})
    assert not _guard.is_enabled()
    assert os.stat is stat


class SlowRepository(AsyncRepository):
    async def get(self) -> None:
        time.sleep(0.05)  # one intercepted call, longer than the step threshold


def test_an_intercepted_call_is_not_reported_again_as_a_slow_step() -> None:
    with guarded("warn", threshold=0.01) as recorder:
        recorder.clear()
        asyncio.run(SlowRepository().get())
        found = [(d.kind, d.blocking, d.layer) for d in recorder.detections]
    assert found == [("call", "time.sleep", "SlowRepository.get")]


class Items(SyncRepository):
    def get(self, item_id: int) -> int:
        return item_id


def test_a_sync_layer_method_on_the_loop_is_named_as_such() -> None:
    async def main() -> int:
        return Items().get(3)

    with guarded("strict"), pytest.raises(BlockingCallError) as raised:
        asyncio.run(main())
    message = str(raised.value)
    assert message.startswith("Items.get (marked blocking) ran on the event loop thread")
    assert f"{HERE}:" in message
    assert "(sync layer)" in message
    assert "Fix:" in message


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_enable_on_a_running_loop_of_either_backend(anyio_backend: str) -> None:
    with guarded("warn") as recorder:
        recorder.clear()
        time.sleep(0.001)
        names = recorder.names()
    assert names == ["time.sleep"]


# --- async endpoints and dependencies, when asked ---------------------------------------


def _cpu_app() -> FastAPI:
    app = FastAPI()

    @app.get("/spin")
    async def spin() -> dict[str, int]:
        return {"count": cpu_loop(0.2)}

    return app


def test_endpoints_are_timed_when_asked() -> None:
    from fastapi.testclient import TestClient

    app = _cpu_app()
    with guarded("warn", threshold=0.05, endpoints=True) as recorder:
        recorder.clear()
        assert TestClient(app).get("/spin").status_code == 200
        steps = recorder.steps
    assert len(steps) == 1, recorder.names()
    assert "spin" in steps[0].blocking
    assert steps[0].route == "GET /spin"
    assert steps[0].duration is not None and steps[0].duration >= 0.05


def test_endpoints_are_not_timed_unless_asked() -> None:
    from fastapi.testclient import TestClient

    app = _cpu_app()
    with guarded("warn", threshold=0.05) as recorder:
        recorder.clear()
        assert TestClient(app).get("/spin").status_code == 200
        assert recorder.steps == []
