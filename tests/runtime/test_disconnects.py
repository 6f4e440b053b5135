"""``install(app, cancel_on_disconnect=True)``: what a client that goes away cancels, and not.

Each test backs one claim of docs/timeouts.md ("Disconnects").  The end-to-end tests
serve the app with a real uvicorn on 127.0.0.1 and disconnect a real client (a raw
socket, closed once the endpoint is known to be running); the ASGI-level tests drive
the middleware with messages of their own.  Everything waits for events, never a guess.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette

from fastapi_boundary import BoundaryError, Limiter, check_cancelled, install
from fastapi_boundary._common.anyio_compat import HAS_CHECK_CANCELLED
from fastapi_boundary._runtime.disconnects import CancelOnDisconnect
from tests.helpers import ANYIO_BACKENDS, WAIT, serving, wait_until

pytestmark = pytest.mark.anyio


class Seen:
    """What the app did, told across uvicorn's thread: one event per step."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.cancelled = threading.Event()
        self.returned = threading.Event()
        self.thread_ended = threading.Event()
        self.background_done = threading.Event()
        self.stream_closed = threading.Event()
        self.disconnect_seen = threading.Event()
        self.cancel_seen_in_thread = threading.Event()

    def checking_work(self) -> str:
        """Blocking work that checks for cancellation between its steps."""
        self.entered.set()
        while not self.gate.wait(0.005):  # one step of the work
            try:
                check_cancelled()
            except BaseException:  # the loop's cancellation exception (no async library here)
                self.cancel_seen_in_thread.set()
                self.gate.wait(WAIT)  # (the test opens the gate once it has seen this)
                break
        return "checked"

    def blocking_work(self) -> str:
        self.entered.set()
        try:
            self.gate.wait(WAIT)
            return "done"
        finally:
            self.thread_ended.set()


def app_for(seen: Seen, limiter: Limiter, *, cancel_on_disconnect: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/offload")
    async def offload() -> str:
        try:
            result: str = await run_blocking_on(limiter, seen.blocking_work)
        except anyio.get_cancelled_exc_class():
            seen.cancelled.set()
            raise
        seen.returned.set()
        return result

    @app.get("/checking")
    async def checking() -> str:
        result: str = await run_blocking_on(limiter, seen.checking_work)
        seen.returned.set()
        try:
            await anyio.sleep(0)
        except anyio.get_cancelled_exc_class():
            seen.cancelled.set()
            raise
        return result

    @app.get("/sync")
    def sync_endpoint() -> str:  # runs in a thread: cannot be cancelled
        result = seen.blocking_work()
        seen.returned.set()
        return result

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"chunk\n"
                    seen.entered.set()
                    await anyio.sleep(0.01)
            finally:
                seen.stream_closed.set()

        return StreamingResponse(chunks())

    @app.get("/background")
    async def background(request: Request, tasks: BackgroundTasks) -> str:
        async def after() -> None:
            seen.entered.set()
            while not await request.is_disconnected():  # the server has seen the client go
                await anyio.sleep(0.005)
            seen.disconnect_seen.set()
            await run_blocking_on(limiter, seen.gate.wait, WAIT)
            await anyio.sleep(0)  # a checkpoint: a cancelled task would stop here
            seen.background_done.set()

        tasks.add_task(after)
        return "sent"

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"size": len(body), "start": body[:8].decode(), "end": body[-8:].decode()}

    return install(app, check="off", cancel_on_disconnect=cancel_on_disconnect)


async def run_blocking_on(limiter: Limiter, func: Any, *args: Any) -> Any:
    return await limiter.run(func, *args)


async def request_then_leave(port: int, path: str, until: threading.Event) -> bytes:
    """Send a GET, wait until ``until`` is set by the app, close the connection; what came."""
    received = b""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        await wait_until(until.is_set, f"the app to reach {path}")
        if path == "/background":  # the whole response first, then leave
            while b'"sent"' not in received:
                received += await stream.receive()
    return received


async def get(port: int, path: str) -> bytes:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(
            f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode()
        )
        received = b""
        with anyio.fail_after(WAIT):
            while True:
                try:
                    received += await stream.receive()
                except anyio.EndOfStream:
                    return received


# --- end to end: uvicorn on 127.0.0.1, a client that really leaves --------------------------


@pytest.mark.slow  # a real uvicorn
async def test_a_disconnect_cancels_the_request_and_its_abandoning_offload() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-abandon", size=1, abandon_on_cancel=True)
    try:
        async with serving(app_for(seen, limiter, cancel_on_disconnect=True)) as (_, port):
            await request_then_leave(port, "/offload", seen.entered)
            await wait_until(seen.cancelled.is_set, "the endpoint to be cancelled")
            assert not seen.thread_ended.is_set()  # the thread runs on: it cannot be stopped
            seen.gate.set()
            await wait_until(seen.thread_ended.is_set, "the thread to end")
            assert b'"ok"' in await get(port, "/ok")  # the server serves on
    finally:
        seen.gate.set()
    assert not seen.returned.is_set()


@pytest.mark.slow  # a real uvicorn
async def test_without_the_option_a_disconnect_cancels_nothing() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-off", size=1, abandon_on_cancel=True)
    try:
        async with serving(app_for(seen, limiter, cancel_on_disconnect=False)) as (_, port):
            await request_then_leave(port, "/offload", seen.entered)
            seen.gate.set()
            await wait_until(seen.returned.is_set, "the endpoint to run to its end")
    finally:
        seen.gate.set()
    assert not seen.cancelled.is_set()


@pytest.mark.slow  # a real uvicorn
@pytest.mark.skipif(
    not HAS_CHECK_CANCELLED, reason="needs anyio >= 4.1: the thread calls check_cancelled()"
)
async def test_an_offload_that_does_not_abandon_holds_its_request_until_the_thread_ends() -> None:
    """The thread learns of the disconnect through check_cancelled(); the request ends after."""
    seen = Seen()
    limiter = Limiter("t-disconnect-wait", size=1)
    try:
        async with serving(app_for(seen, limiter, cancel_on_disconnect=True)) as (_, port):
            await request_then_leave(port, "/checking", seen.entered)
            await wait_until(seen.cancel_seen_in_thread.is_set, "the thread to see the cancel")
            assert not seen.cancelled.is_set()  # the endpoint still waits for its thread
            seen.gate.set()
            await wait_until(seen.cancelled.is_set, "the endpoint's next await to be cancelled")
            assert seen.returned.is_set()  # it got the thread's result first
            assert b'"ok"' in await get(port, "/ok")
    finally:
        seen.gate.set()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.slow  # a real uvicorn
async def test_a_sync_endpoint_runs_to_its_end_and_nothing_breaks() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-sync", size=1)
    errors = Records()
    logging.getLogger("uvicorn.error").addHandler(errors)
    try:
        async with serving(app_for(seen, limiter, cancel_on_disconnect=True)) as (_, port):
            await request_then_leave(port, "/sync", seen.entered)
            seen.gate.set()
            await wait_until(seen.returned.is_set, "the def endpoint to run to its end")
            assert b'"ok"' in await get(port, "/ok")
    finally:
        seen.gate.set()
        logging.getLogger("uvicorn.error").removeHandler(errors)
    assert [record.getMessage() for record in errors.records] == []


@pytest.mark.slow  # a real uvicorn
async def test_a_streaming_response_stops_when_its_client_leaves() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-stream", size=1)
    async with serving(app_for(seen, limiter, cancel_on_disconnect=True)) as (_, port):
        await request_then_leave(port, "/stream", seen.entered)
        await wait_until(seen.stream_closed.is_set, "the stream's generator to be closed")
        assert b'"ok"' in await get(port, "/ok")


@pytest.mark.slow  # a real uvicorn
async def test_background_tasks_run_on_after_the_client_leaves() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-background", size=1)
    try:
        async with serving(app_for(seen, limiter, cancel_on_disconnect=True)) as (_, port):
            received = await request_then_leave(port, "/background", seen.entered)
            assert received.startswith(b"HTTP/1.1 200")
            await wait_until(seen.disconnect_seen.is_set, "the server to see the client go")
            seen.gate.set()  # the client is gone; the background task was not cancelled
            await wait_until(seen.background_done.is_set, "the background task to finish")
    finally:
        seen.gate.set()


@pytest.mark.slow  # a real uvicorn
async def test_a_request_body_reaches_the_endpoint_whole() -> None:
    seen = Seen()
    limiter = Limiter("t-disconnect-body", size=1)
    body = b"start---" + b"x" * 300_000 + b"----end!"
    app = app_for(seen, limiter, cancel_on_disconnect=True)
    async with serving(app) as (_, port), await anyio.connect_tcp("127.0.0.1", port) as stream:
        head = (
            f"POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        await stream.send(head.encode())
        for start in range(0, len(body), 65_536):  # in chunks, as a slow client sends
            await stream.send(body[start : start + 65_536])
        received = b""
        with anyio.fail_after(WAIT):
            while True:
                try:
                    received += await stream.receive()
                except anyio.EndOfStream:
                    break
    assert b'{"size":300016,"start":"start---","end":"----end!"}' in received


# --- the middleware's contract, message by message ------------------------------------------


# the middleware watches with an asyncio task on asyncio, an anyio task group elsewhere
BOTH_BACKENDS = pytest.mark.parametrize("anyio_backend", ANYIO_BACKENDS)

HTTP_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "root_path": "",
    "query_string": b"",
    "headers": [],
    "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 2),
}


@BOTH_BACKENDS
async def test_body_messages_reach_the_app_whole_and_in_order(anyio_backend: str) -> None:
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"b", "more_body": False},
    ]
    taken: list[Any] = []

    async def receive() -> dict[str, Any]:
        if not incoming:
            await anyio.sleep_forever()  # no disconnect: the client stays
        return incoming.pop(0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for _ in range(2):
            taken.append(await receive())

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)
    assert [(m["body"], m["more_body"]) for m in taken] == [(b"a", True), (b"b", False)]


@BOTH_BACKENDS
async def test_a_disconnect_before_the_response_cancels_the_request(anyio_backend: str) -> None:
    waiting = anyio.Event()
    cancelled: list[str] = []

    async def receive() -> dict[str, Any]:
        await waiting.wait()
        return {"type": "http.disconnect"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            waiting.set()
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append("cancelled")
            raise

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)  # returns: nothing to send
    assert cancelled == ["cancelled"]


@BOTH_BACKENDS
async def test_the_body_is_read_one_message_ahead_of_the_app_at_most(anyio_backend: str) -> None:
    reads = 0
    app_took = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        app_took.set()
        await anyio.wait_all_tasks_blocked()

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)
    assert app_took.is_set() and reads == 2  # the one taken, and one read ahead


@BOTH_BACKENDS
async def test_a_disconnect_after_the_response_cancels_nothing(anyio_backend: str) -> None:
    response_sent = anyio.Event()
    finished: list[str] = []

    async def receive() -> dict[str, Any]:
        await response_sent.wait()
        return {"type": "http.disconnect"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done", "more_body": False})
        response_sent.set()
        await anyio.wait_all_tasks_blocked()  # the watcher has read the disconnect
        await anyio.sleep(0)
        finished.append("background work")
        for _ in range(2):  # what was read is told again to whoever asks
            finished.append((await receive())["type"])

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)
    assert finished == ["background work", "http.disconnect", "http.disconnect"]
    assert len(sent) == 2


@BOTH_BACKENDS
async def test_errors_of_the_app_pass_through_as_they_are(anyio_backend: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("from the app")

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Any) -> None:
        raise AssertionError

    with pytest.raises(KeyError, match="from the app"):
        await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)


@BOTH_BACKENDS
async def test_a_receive_that_fails_fails_the_apps_receive(anyio_backend: str) -> None:
    raised: list[str] = []

    async def receive() -> dict[str, Any]:
        raise OSError("the server's receive failed")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await receive()
        except OSError as error:
            raised.append(str(error))

    async def send(message: Any) -> None:
        raise AssertionError

    await CancelOnDisconnect(app)(dict(HTTP_SCOPE), receive, send)
    assert raised == ["the server's receive failed"]


@BOTH_BACKENDS
async def test_other_scopes_pass_through(anyio_backend: str) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], receive, send))

    async def receive() -> dict[str, Any]:
        raise AssertionError

    async def send(message: Any) -> None:
        raise AssertionError

    await CancelOnDisconnect(app)({"type": "lifespan"}, receive, send)
    assert seen == [("lifespan", receive, send)]


# --- install ----------------------------------------------------------------------------------


def test_install_adds_the_middleware_once_and_only_when_asked() -> None:
    app = FastAPI()
    install(app, check="off")
    assert not app.user_middleware
    other = Starlette()
    install(other, check="off", cancel_on_disconnect=True)
    install(other, check="off", cancel_on_disconnect=True)
    assert [getattr(entry, "cls", None) for entry in other.user_middleware] == [CancelOnDisconnect]


def test_install_refuses_the_option_once_the_app_serves() -> None:
    app = FastAPI()
    app.middleware_stack = app.build_middleware_stack()
    with pytest.raises(BoundaryError) as caught:
        install(app, check="off", cancel_on_disconnect=True)
    assert "install(cancel_on_disconnect=True) on FastAPI app" in str(caught.value)
    assert "Fix: call install(app, ...) before the app starts serving." in str(caught.value)
    with pytest.raises(BoundaryError, match=r"takes True or False; got 'yes'"):
        install(FastAPI(), cancel_on_disconnect="yes")  # type: ignore[arg-type]
