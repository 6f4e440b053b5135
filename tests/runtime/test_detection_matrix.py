"""The coverage matrix: blocking work inside real FastAPI apps, requested through TestClient.

Each case is an ``async def`` endpoint doing one kind of blocking work; the
guard (warn mode, so the request completes) must report it, by interception,
by step timing (CPU work and C extensions inside async layers), or both.  The
negative controls do the same work correctly and must report nothing.
Servers are real, on 127.0.0.1; blocking lasts 50 ms against a 10 ms step
threshold; nothing asserts on speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from time import sleep  # early-bound before the guard is switched on
from typing import Any

import aiosqlite
import anyio
import bcrypt
import httpx
import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from fastapi_boundary import AsyncRepository, AsyncService, blocking, run_blocking
from fastapi_boundary._runtime.detection import Detection, Recorder
from fastapi_boundary._runtime.guard import guarded
from tests.helpers import cpu_loop

BLOCK = 0.05
THRESHOLD = 0.01
HERE = Path(__file__).name
HAS_SLEEP_EVENT = sys.version_info >= (3, 11)  # CPython emits the time.sleep audit event


@blocking
def legacy_fetch(item_id: int) -> int:
    time.sleep(0.001)
    return item_id


class Scoring(AsyncService):
    async def score(self) -> int:
        await anyio.sleep(0)
        return cpu_loop(BLOCK)

    async def digest(self) -> str:
        return hashlib.sha256(b"x" * (96 << 20)).hexdigest()


class ItemRepository(AsyncRepository):
    async def get(self, item_id: int) -> int:
        time.sleep(0.001)  # fake async
        return item_id


SLEEP_LINE = ItemRepository.get.__code__.co_firstlineno + 1


class Server:
    """A real HTTP server on 127.0.0.1 in a thread."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


def make_app(server: Server, tmp: Path) -> FastAPI:
    app = FastAPI()
    engine = create_engine(f"sqlite:///{tmp / 'sqla.db'}")
    password_hash = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=4))

    @app.get("/sleep/{item_id}")
    async def time_sleep(item_id: int) -> int:
        time.sleep(0.001)
        return item_id

    @app.get("/early-sleep")
    async def early_sleep() -> None:
        sleep(0.001)

    @app.get("/socket")
    async def raw_socket() -> None:
        with socket.socket() as sock:
            sock.connect(("127.0.0.1", server.port))

    @app.get("/requests")
    async def with_requests() -> str:
        return requests.get(server.url, timeout=5).text

    @app.get("/urllib")
    async def with_urllib() -> str:
        with urllib.request.urlopen(server.url, timeout=5) as response:
            return str(response.read().decode())

    @app.get("/file")
    async def file_write_read() -> str:
        with open(tmp / "f.txt", "w") as file:
            file.write("data")
        with open(tmp / "f.txt") as file:
            return file.read()

    @app.get("/pathlib")
    async def pathlib_io() -> str:
        (tmp / "p.txt").write_text("data")
        return (tmp / "p.txt").read_text()

    @app.get("/stat")
    async def stat() -> int:
        return os.stat(tmp).st_mode

    @app.get("/sqlite")
    async def with_sqlite() -> int:
        connection = sqlite3.connect(tmp / "s.db")
        try:
            return int(connection.execute("select 1").fetchone()[0])
        finally:
            connection.close()

    @app.get("/subprocess")
    async def with_subprocess() -> int:
        return subprocess.run(["true"], check=True).returncode

    @app.get("/system")
    async def with_system() -> int:
        return os.system("true")

    @app.get("/getaddrinfo")
    async def with_getaddrinfo() -> int:
        return len(socket.getaddrinfo("127.0.0.1", server.port))

    @app.get("/cpu")
    async def cpu() -> int:
        return await Scoring().score()

    @app.get("/hashlib")
    async def digest() -> str:
        return await Scoring().digest()

    @app.get("/sqlalchemy")
    async def sync_sqlalchemy() -> int:
        with Session(engine) as session:
            return int(session.execute(text("select 1")).scalar_one())

    @app.get("/bcrypt")
    async def with_bcrypt() -> bool:
        return bcrypt.checkpw(b"secret", password_hash)

    @app.get("/marked/{item_id}")
    async def marked(item_id: int) -> int:
        return legacy_fetch(item_id)

    @app.get("/layer/{item_id}")
    async def layer(item_id: int) -> int:
        return await ItemRepository().get(item_id)

    return app


#: path -> (what must be reported, how)
CAUGHT = {
    "/sleep/1": ("time.sleep", "interception"),
    "/early-sleep": ("time.sleep", "re-binding + audit event"),
    "/socket": ("socket.socket.connect", "interception"),
    "/requests": ("requests.api.get", "interception"),
    "/urllib": ("urllib.request.urlopen", "interception"),
    "/file": ("builtins.open", "audit event"),
    "/pathlib": ("pathlib.Path.write_text", "interception"),
    "/stat": ("os.stat", "interception"),
    "/sqlite": ("sqlite3.connect", "interception + audit event"),
    "/subprocess": ("subprocess.run", "interception"),
    "/system": ("os.system", "interception"),
    "/getaddrinfo": ("socket.getaddrinfo", "interception"),
    "/cpu": ("Scoring.score", "step timing"),
    "/hashlib": ("Scoring.digest", "step timing"),
    "/sqlalchemy": ("sqlalchemy.orm.session.Session.execute", "interception"),
    "/bcrypt": ("bcrypt.checkpw", "interception"),
    "/marked/1": (f"{__name__}.legacy_fetch", "marked callable"),
    "/layer/1": ("time.sleep", "interception, inside a layer"),
}


@pytest.fixture
def warn_guard() -> Iterator[Recorder]:
    with guarded("warn", threshold=THRESHOLD) as recorder:
        recorder.clear()
        yield recorder
    recorder.clear()


@pytest.mark.parametrize("path", list(CAUGHT))
def test_caught(path: str, server: Server, tmp_path: Path, warn_guard: Recorder) -> None:
    expected, how = CAUGHT[path]
    app = make_app(server, tmp_path)
    with TestClient(app) as client:
        warn_guard.clear()
        assert client.get(path).status_code == 200
    names = warn_guard.names()
    assert expected in names, f"{path} ({how}) not caught: {names}"
    found = next(d for d in warn_guard.detections if d.blocking == expected)
    route = path.rsplit("/", 1)[0] + "/{item_id}" if path.endswith("/1") else path
    assert found.route == f"GET {route}"
    if found.kind == "call":
        assert found.site is not None and found.site.file.endswith(HERE), found


def test_the_route_template_layer_and_line_are_named(
    server: Server, tmp_path: Path, warn_guard: Recorder
) -> None:
    with TestClient(make_app(server, tmp_path)) as client:
        client.get("/layer/5?token=secret")
    found = warn_guard.calls[0]
    assert found.blocking == "time.sleep"
    assert found.route == "GET /layer/{item_id}"
    assert found.layer == "ItemRepository.get"
    assert found.layer_mode is not None and found.layer_mode.value == "async"
    assert found.site is not None and found.site.file.endswith(HERE)
    assert found.site.line == SLEEP_LINE


def test_strict_mode_raises_into_the_request_with_the_whole_story(
    server: Server, tmp_path: Path
) -> None:
    from fastapi_boundary._common.errors import BlockingCallError, BoundaryError

    app = make_app(server, tmp_path)
    with guarded("strict"), TestClient(app) as client, pytest.raises(BlockingCallError) as raised:
        client.get("/layer/5?token=secret")
    error = raised.value
    assert isinstance(error, BoundaryError) and isinstance(error, RuntimeError)
    message = str(error)
    line = SLEEP_LINE
    assert message.startswith("blocking call time.sleep (sleep) on the event loop thread")
    assert f"{HERE}:{line}" in message
    assert "while serving GET /layer/{item_id}" in message
    assert "in ItemRepository.get (async layer)" in message
    assert "Fix: use `await anyio.sleep(...)`" in message
    assert "secret" not in message
    detection = error.detection
    assert isinstance(detection, Detection) and detection.layer == "ItemRepository.get"


def test_marked_callable_message_names_the_offload(server: Server, tmp_path: Path) -> None:
    from fastapi_boundary._common.errors import BlockingCallError

    app = make_app(server, tmp_path)
    expected = r"legacy_fetch \(marked blocking\)"
    with guarded("strict"), TestClient(app) as client, pytest.raises(BlockingCallError) as raised:
        client.get("/marked/2")
    assert raised.match(expected)
    assert "Fix: offload it: `await run_blocking(legacy_fetch, ...)`" in str(raised.value)
    assert "while serving GET /marked/{item_id}" in str(raised.value)


@pytest.mark.skipif(not HAS_SLEEP_EVENT, reason="time.sleep has an audit event from 3.11")
def test_a_reference_no_rebinding_reaches_is_caught_by_the_audit_hook(
    warn_guard: Recorder,
) -> None:
    hidden = {"sleep": sleep}  # neither a module global nor an attribute

    async def main() -> None:
        hidden["sleep"](0.001)

    asyncio.run(main())
    assert warn_guard.names() == ["time.sleep"]


# --- negative controls: the same work, done right ---------------------------------------


def make_correct_app(server: Server, tmp: Path) -> FastAPI:
    app = FastAPI()

    @app.get("/offloaded")
    async def offloaded() -> int:
        await run_blocking(time.sleep, 0.001)
        await run_blocking(os.stat, tmp)
        await run_blocking(legacy_fetch, 1)
        return await run_blocking(lambda: len(requests.get(server.url, timeout=5).text))

    @app.get("/def")
    def sync_endpoint() -> int:
        time.sleep(0.001)
        os.stat(tmp)
        (tmp / "d.txt").write_text("x")
        sqlite3.connect(":memory:").close()
        subprocess.run(["true"], check=True)
        legacy_fetch(1)
        return len(requests.get(server.url, timeout=5).text)

    @app.get("/thread")
    async def worker_thread() -> None:
        thread = threading.Thread(target=time.sleep, args=(0.001,))
        thread.start()
        await anyio.to_thread.run_sync(thread.join)

    @app.get("/aiosqlite")
    async def async_driver() -> int:
        async with aiosqlite.connect(tmp / "a.db") as db:
            cursor = await db.execute("select 1")
            row = await cursor.fetchone()
            assert row is not None
            return int(row[0])

    @app.get("/sleeps")
    async def async_sleeps() -> None:
        await asyncio.sleep(0.001)
        await anyio.sleep(0.001)

    @app.get("/async-io")
    async def async_io() -> int:
        await anyio.Path(tmp / "b.txt").write_text("x")
        process = await anyio.run_process(["true"])
        async with httpx.AsyncClient() as client:
            response = await client.get(server.url)
        return process.returncode + len(response.text)

    return app


# httpx < 0.28 builds an AsyncClient's SSL context on the event loop, checking the CA bundle
# with a blocking Path.is_file: a real (small) blocking call of the tool, not of the test.
_HTTPX_LOADS_CERTS_ON_THE_LOOP = tuple(int(p) for p in httpx.__version__.split(".")[:2]) < (0, 28)


@pytest.mark.parametrize(
    "path",
    [
        "/offloaded",
        "/def",
        "/thread",
        "/aiosqlite",
        "/sleeps",
        pytest.param(
            "/async-io",
            marks=pytest.mark.skipif(
                _HTTPX_LOADS_CERTS_ON_THE_LOOP,
                reason="needs httpx >= 0.28: older AsyncClient() calls Path.is_file on the loop",
            ),
        ),
    ],
)
def test_negative_controls_report_nothing(
    path: str, server: Server, tmp_path: Path, warn_guard: Recorder
) -> None:
    with guarded("strict", threshold=THRESHOLD) as recorder:
        with TestClient(make_correct_app(server, tmp_path)) as client:
            recorder.clear()
            assert client.get(path).status_code == 200
        assert recorder.detections == []


# --- trio -----------------------------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["trio"])
@pytest.mark.anyio
async def test_trio_loop_is_guarded(anyio_backend: str, warn_guard: Recorder) -> None:
    await anyio.sleep(0.001)
    assert warn_guard.detections == []
    time.sleep(0.001)
    assert warn_guard.names() == ["time.sleep"]
    await anyio.to_thread.run_sync(time.sleep, 0.001)  # a worker thread: legitimate
    assert warn_guard.names() == ["time.sleep"]


def test_trio_testclient_requests_are_guarded(
    server: Server, tmp_path: Path, warn_guard: Recorder
) -> None:
    with TestClient(make_app(server, tmp_path), backend="trio") as client:
        warn_guard.clear()
        client.get("/sleep/3")
    assert [(d.blocking, d.route) for d in warn_guard.calls] == [
        ("time.sleep", "GET /sleep/{item_id}")
    ]


@pytest.mark.anyio
async def test_httpx_asgi_transport_requests_are_guarded(
    server: Server, tmp_path: Path, warn_guard: Recorder
) -> None:
    transport = httpx.ASGITransport(app=make_app(server, tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        warn_guard.clear()
        await client.get("/stat")
    assert [(d.blocking, d.route) for d in warn_guard.calls] == [("os.stat", "GET /stat")]
