"""Guard benchmarks: the coverage matrix vs blockbuster, pyleak and asyncio debug mode; overhead.

Run from the repository root::

    .venv/bin/python benchmarks/bench_guard.py

Three measurements:

1. the coverage matrix: each kind of blocking work runs inside an ``async``
   layer method on asyncio, once per detector — this library's guard (warn
   mode, 10 ms step threshold), blockbuster, pyleak (10 ms), asyncio debug
   mode (``slow_callback_duration`` 10 ms) and aiodebug (10 ms) — and the
   report says which detector caught which case; negative controls (the same
   work done right) must be reported by none;
2. overhead off the loop: ``os.stat`` called from a thread that runs no event
   loop while another thread is registered as one, plain vs intercepted by the
   guard vs intercepted by blockbuster, interleaved and rotated, with a
   plain-vs-plain control, timed in CPU time of the process (the load other
   processes put on a shared machine is not counted); budget: guard <= 1.10x plain;
3. the request path: requests per CPU second of a FastAPI app served in
   process (its ASGI callable awaited on asyncio, no socket and no client, so
   the guard's per-request work is the largest share it can be), guard off vs
   on vs blockbuster activated, the fastest of several batches per side,
   interleaved and rotated, with a control; the process's CPU time counts the
   guard's own threads but not other processes on a shared machine (the wall
   clock ratio is shown beside it); budget: guard >= 0.95x off.

The report is printed and written to ``benchmarks/results/guard.txt``; the exit
status is 1 when a budget is missed.  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import hashlib
import http.server
import logging
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from time import sleep  # bound before any detector is switched on
from typing import Any

import aiosqlite
import bcrypt
import httpx
import requests
from blockbuster import blockbuster_ctx
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from pyleak import no_event_loop_blocking
from pyleak.base import LeakAction
from sqlalchemy import create_engine, text

from _harness import (
    RESULTS_DIR,
    SUMMARY,
    argument_parser,
    header,
    progress,
    publish,
    report,
    rotation,
    spread,
    verdict,
)
from fastapi_boundary import AsyncService, run_blocking
from fastapi_boundary._runtime.guard import guarded
from fastapi_boundary._runtime.loop_threads import register_loop_thread, unregister_loop_thread

RESULTS = RESULTS_DIR / "guard.txt"
BLOCK = 0.05
THRESHOLD = 0.01
BUDGET = 1.10

# --- the cases ---------------------------------------------------------------------------


class Server:
    """A real HTTP server on 127.0.0.1 in a thread (requests, urllib, socket, httpx)."""

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
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def cpu_loop(seconds: float) -> int:
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(200))
    return total


def make_cases(server: Server, tmp: Path) -> dict[str, Callable[[], Awaitable[object]]]:
    """Each case: an ``async`` function that does one kind of blocking work, as users write it."""
    engine = create_engine(f"sqlite:///{tmp / 'sqla.db'}")
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=10))
    big = b"x" * (96 << 20)

    def sync_sqlalchemy() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("select 1")).scalar_one())

    def files() -> str:
        with open(tmp / "f.txt", "w") as file:
            file.write("data")
        with open(tmp / "f.txt") as file:
            return file.read()

    def raw_socket() -> None:
        with socket.socket() as sock:
            sock.connect(("127.0.0.1", server.port))

    def sqlite() -> int:
        connection = sqlite3.connect(tmp / "s.db")
        try:
            return int(connection.execute("select 1").fetchone()[0])
        finally:
            connection.close()

    def urllib_get() -> bytes:
        with urllib.request.urlopen(server.url, timeout=5) as response:
            return bytes(response.read())

    blocking: dict[str, Callable[[], object]] = {
        "time.sleep(50 ms)": lambda: time.sleep(BLOCK),
        "early-bound sleep(50 ms)": lambda: sleep(BLOCK),
        "socket connect (127.0.0.1)": raw_socket,
        "requests.get (local server)": lambda: requests.get(server.url, timeout=5),
        "urllib urlopen (local server)": urllib_get,
        "file write + read": files,
        "os.stat": lambda: os.stat(tmp),
        "sqlite3 connect + query": sqlite,
        "subprocess.run": lambda: subprocess.run(["true"], check=True),
        "os.system": lambda: os.system("true"),
        "socket.getaddrinfo": lambda: socket.getaddrinfo("127.0.0.1", server.port),
        "pure-Python CPU loop (50 ms)": lambda: cpu_loop(BLOCK),
        "hashlib.sha256 on 96 MB": lambda: hashlib.sha256(big).hexdigest(),
        "sync SQLAlchemy query": sync_sqlalchemy,
        "bcrypt.checkpw (rounds=10)": lambda: bcrypt.checkpw(b"secret", hashed),
    }
    return {name: _in_layer(work) for name, work in blocking.items()}


class Handlers(AsyncService):
    """The async layer the cases run in (step timing times layer methods)."""

    async def run(self, work: Callable[[], object]) -> object:
        return work()


def _in_layer(work: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def case() -> object:
        return await Handlers().run(work)

    return case


def make_controls(server: Server, tmp: Path) -> dict[str, Callable[[], Awaitable[object]]]:
    """The same kinds of work done right: every detector must stay silent."""

    async def offloaded() -> object:
        await run_blocking(time.sleep, BLOCK)
        return await run_blocking(os.stat, tmp)

    async def async_sleep() -> None:
        await asyncio.sleep(BLOCK)

    async def async_driver() -> object:
        async with aiosqlite.connect(tmp / "a.db") as db:
            cursor = await db.execute("select 1")
            return await cursor.fetchone()

    async def async_client() -> str:
        # creating a client loads the CA bundle (a blocking read): done off the loop, as at
        # start-up in an app, then only awaited on it
        client = await run_blocking(httpx.AsyncClient)
        async with client:
            return (await client.get(server.url)).text

    return {
        "run_blocking(time.sleep / os.stat)": offloaded,
        "asyncio.sleep(50 ms)": async_sleep,
        "aiosqlite query": async_driver,
        "httpx.AsyncClient (local server)": async_client,
    }


# --- the detectors ---------------------------------------------------------------------------

Detector = Callable[[Callable[[], Awaitable[object]]], bool]


def _quiet_run(main: Callable[[], Awaitable[object]], *, debug: bool = False) -> None:
    async def runner() -> None:
        if debug:
            asyncio.get_running_loop().slow_callback_duration = THRESHOLD
        with contextlib.suppress(Exception):
            await main()

    asyncio.run(runner(), debug=debug)


def ours(case: Callable[[], Awaitable[object]]) -> bool:
    with guarded("warn", threshold=THRESHOLD) as recorder:
        recorder.clear()
        _quiet_run(case)
        caught = bool(recorder.detections)
        recorder.clear()
    return caught


def with_blockbuster(case: Callable[[], Awaitable[object]]) -> bool:
    caught = False

    async def main() -> None:
        nonlocal caught
        try:
            await case()
        except Exception as error:  # blockbuster.BlockingError, or what it broke
            caught = type(error).__name__ == "BlockingError"

    with blockbuster_ctx():
        asyncio.run(main())
    return caught


def with_pyleak(case: Callable[[], Awaitable[object]]) -> bool:
    caught = False

    async def main() -> None:
        nonlocal caught
        try:
            async with no_event_loop_blocking(
                action=LeakAction.RAISE, threshold=THRESHOLD, check_interval=0.005
            ):
                await case()
        except Exception as error:  # pyleak's EventLoopBlockError (in a group)
            caught = "EventLoopBlock" in repr(error)

    asyncio.run(main())
    return caught


class _Slow(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "took" in record.getMessage() and "Executing" in record.getMessage():
            self.seen += 1


@contextlib.contextmanager
def _capture(logger_name: str) -> Iterator[_Slow]:
    handler = _Slow()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def with_asyncio_debug(case: Callable[[], Awaitable[object]]) -> bool:
    with _capture("asyncio") as slow:
        _quiet_run(case, debug=True)
    return slow.seen > 0


def with_aiodebug(case: Callable[[], Awaitable[object]]) -> bool:
    import aiodebug.log_slow_callbacks  # type: ignore[import-untyped]

    original = asyncio.events.Handle._run
    found: list[str] = []
    aiodebug.log_slow_callbacks.enable(THRESHOLD, lambda name, duration: found.append(name))
    try:
        _quiet_run(case)
    finally:
        asyncio.events.Handle._run = original  # type: ignore[method-assign]
    return bool(found)


DETECTORS: dict[str, Detector] = {
    "fastapi-boundary": ours,
    "blockbuster": with_blockbuster,
    "pyleak": with_pyleak,
    "asyncio debug": with_asyncio_debug,
    "aiodebug": with_aiodebug,
}


def matrix() -> tuple[list[str], bool]:
    server = Server()
    try:
        with tempfile.TemporaryDirectory() as directory:
            tmp = Path(directory)
            cases = make_cases(server, tmp)
            controls = make_controls(server, tmp)
            caught: dict[str, dict[str, bool]] = {}
            for name, case in {**cases, **controls}.items():
                progress(f"  matrix: {name}")
                caught[name] = {tool: detect(case) for tool, detect in DETECTORS.items()}
    finally:
        server.close()
    width = max(len(name) for name in caught) + 2
    tools = list(DETECTORS)
    lines = [
        "1. Coverage matrix: blocking work inside an async layer method on asyncio "
        f"(x = reported; thresholds {THRESHOLD * 1000:.0f} ms)",
        "   " + " " * width + "  ".join(f"{tool:>16}" for tool in tools),
    ]
    for name in cases:
        marks = "  ".join(f"{'x' if caught[name][tool] else '-':>16}" for tool in tools)
        lines.append(f"   {name:<{width}}{marks}")
    totals = "  ".join(
        f"{sum(caught[name][tool] for name in cases):>13}/{len(cases):<2}" for tool in tools
    )
    lines.append(f"   {'caught':<{width}}{totals}")
    lines.append("   negative controls (must be all '-'):")
    for name in controls:
        marks = "  ".join(f"{'x' if caught[name][tool] else '-':>16}" for tool in tools)
        lines.append(f"   {name:<{width}}{marks}")
    ours_all = all(caught[name]["fastapi-boundary"] for name in cases)
    ours_clean = not any(caught[name]["fastapi-boundary"] for name in controls)
    best_other = max(sum(caught[name][tool] for name in cases) for tool in tools[1:])
    lines.append(
        f"   fastapi-boundary catches every case and no control; best other detector "
        f"{best_other}/{len(cases)}  {verdict(ours_all and ours_clean)}"
    )
    lines.append(
        "   only fastapi-boundary names the route (method + path template), the layer and its "
        "mode, and the caller's file:line"
    )
    return lines, ours_all and ours_clean


# --- overhead off the loop ---------------------------------------------------------------------

SIDES = ("plain", "control: plain again", "fastapi-boundary guard", "blockbuster")


@contextlib.contextmanager
def side(name: str) -> Iterator[None]:
    if name == "fastapi-boundary guard":
        with guarded("strict"):
            yield
    elif name == "blockbuster":
        with blockbuster_ctx():
            yield
    else:
        yield


def overhead(repetitions: int, number: int) -> tuple[list[str], bool]:
    path = str(Path(__file__).resolve())
    timings: dict[str, list[float]] = {name: [] for name in SIDES}
    # another thread "runs the loop": the check off the loop is a real lookup, not an empty dict
    stop = threading.Event()
    loop_thread = threading.Thread(target=stop.wait)
    loop_thread.start()
    assert loop_thread.ident is not None
    ident = register_loop_thread(loop_thread.ident)
    try:
        for turn in range(repetitions):
            for name in rotation(SIDES, turn):
                with side(name):
                    seconds = min(
                        timeit.repeat(
                            "os.stat(path)",
                            globals={"os": os, "path": path},
                            number=number,
                            repeat=3,
                            timer=time.process_time,  # other processes' load is not ours
                        )
                    )
                timings[name].append(seconds / number * 1e6)
            if turn % 5 == 4:
                progress(f"  overhead: {turn + 1}/{repetitions}")
    finally:
        unregister_loop_thread(ident)
        stop.set()
        loop_thread.join()
    plain = timings["plain"]
    lines = [
        f"2. os.stat off the loop, CPU time of the process ({number:,} calls x best of 3, "
        f"{repetitions} rotated "
        f"repetitions; a second thread registered as a loop); budget: guard <= {BUDGET:.2f}x plain",
        f"   anchor plain: {statistics.median(plain):.3f} µs/call (median), {spread(plain)}",
    ]
    ratios: dict[str, float] = {}
    for name in SIDES[1:]:
        per_turn = [value / base for value, base in zip(timings[name], plain, strict=True)]
        ratios[name] = statistics.median(per_turn)
        lines.append(f"   {name:<24} {ratios[name]:.3f}x  ({spread(per_turn)})")
    ok = ratios["fastapi-boundary guard"] <= BUDGET
    lines.append(
        f"   guard {ratios['fastapi-boundary guard']:.3f}x <= {BUDGET:.2f}x  {verdict(ok)} "
        f"(blockbuster {ratios['blockbuster']:.3f}x in the same run)"
    )
    return lines, ok


# --- the request path ----------------------------------------------------------------------

REQUEST_BUDGET = 0.95


class Page(BaseModel):
    item_id: int
    q: str | None
    page: int


def request_app() -> FastAPI:
    """A typical async route: a path and a query parameter, a dependency, a response model."""
    app = FastAPI()

    async def pagination(page: int = 1) -> int:
        return page

    @app.get("/items/{item_id}", response_model=Page)
    async def read_item(item_id: int, q: str | None = None, page: int = Depends(pagination)) -> Any:
        return {"item_id": item_id, "q": q, "page": page}

    return app


_SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/items/3",
    "raw_path": b"/items/3",
    "query_string": b"q=x&page=2",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 1),
    "server": ("bench", 80),
}


async def _serve(app: FastAPI, batch: int, best_of: int) -> tuple[float, float]:
    """Requests per CPU second of the process, and per wall second, through the app's ASGI
    callable: the fastest of ``best_of`` batches each.

    CPU time counts every thread of the process (the guard's watchdog included) but not the
    time other processes of a shared machine hold the CPU: the budget is judged on it.
    """
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    for _ in range(50):  # warm-up: the first requests build FastAPI's caches
        await app(dict(_SCOPE), receive, send)
    best_cpu = best_wall = 0.0
    for _ in range(best_of):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(batch):
            await app(dict(_SCOPE), receive, send)
        best_cpu = max(best_cpu, batch / (time.process_time() - start_cpu))
        best_wall = max(best_wall, batch / (time.perf_counter() - start))
    if set(sent) != {200}:
        raise RuntimeError(f"the request path answered {sorted(set(sent))}")
    return best_cpu, best_wall


def request_path(repetitions: int, batch: int, best_of: int) -> tuple[list[str], bool]:
    """Requests/s of a FastAPI app served in process (its ASGI callable awaited on asyncio)."""
    app = request_app()
    rates: dict[str, list[float]] = {name: [] for name in SIDES}
    walls: dict[str, list[float]] = {name: [] for name in SIDES}
    for turn in range(repetitions):
        for name in rotation(SIDES, turn):
            with side(name):
                cpu, wall = asyncio.run(_serve(app, batch, best_of))
            rates[name].append(cpu)
            walls[name].append(wall)
        if turn % 5 == 4:
            progress(f"  request path: {turn + 1}/{repetitions}")
    plain = rates["plain"]
    lines = [
        f"3. Requests per CPU second of a FastAPI app served in process: its ASGI callable "
        f"awaited on asyncio (no socket, no client: the strictest ratio), the fastest of "
        f"{best_of} batches of {batch} requests per side and repetition, {repetitions} rotated "
        f"repetitions; CPU time of the whole process (the guard's threads included, other "
        f"processes not); budget: guard >= {REQUEST_BUDGET:.2f}x guard off",
        f"   anchor guard off: {statistics.median(plain):,.0f} requests/CPU s (median), "
        f"{spread(plain, 0)}",
    ]
    ratios: dict[str, float] = {}
    for name in SIDES[1:]:
        per_turn = [value / base for value, base in zip(rates[name], plain, strict=True)]
        ratios[name] = statistics.median(per_turn)
        extra = (1 / statistics.median(rates[name]) - 1 / statistics.median(plain)) * 1e6
        wall = statistics.median(
            value / base for value, base in zip(walls[name], walls["plain"], strict=True)
        )
        lines.append(
            f"   {name:<24} {ratios[name]:.3f}x  ({spread(per_turn)}; {extra:+.1f} µs/request; "
            f"wall clock {wall:.3f}x)"
        )
    guard = ratios["fastapi-boundary guard"]
    ok = guard >= REQUEST_BUDGET
    lines.append(
        f"   guard {guard:.3f}x >= {REQUEST_BUDGET:.2f}x  {verdict(ok)} "
        f"(blockbuster {ratios['blockbuster']:.3f}x in the same run)"
    )
    return lines, ok


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--repetitions", type=int, default=25)
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--request-repetitions", type=int, default=21)
    parser.add_argument("--batch", type=int, default=400, help="requests per timed batch")
    parser.add_argument("--best-of", type=int, default=9, help="batches per side and repetition")
    parser.add_argument("--skip-matrix", action="store_true", help="overhead only (not saved)")
    args = parser.parse_args()
    head = header(
        "fastapi-boundary guard benchmark",
        ["fastapi-boundary", "blockbuster", "pyleak", "aiodebug", "anyio", "fastapi"],
        summary=SUMMARY + " Event loop: asyncio.",
    )
    sections: list[list[str]] = []
    passed = True
    if not args.skip_matrix:
        progress("coverage matrix")
        lines, ok = matrix()
        sections.append(lines)
        passed = passed and ok
    progress("overhead off the loop")
    lines, ok = overhead(args.repetitions, args.number)
    sections.append(lines)
    passed = passed and ok
    progress("the request path")
    lines, ok = request_path(args.request_repetitions, args.batch, args.best_of)
    sections.append(lines)
    passed = passed and ok
    publish(report(head, sections, passed), None if args.skip_matrix else RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
