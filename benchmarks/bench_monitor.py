"""Production monitor benchmark: requests/s of a uvicorn app with the monitor vs without.

Run from the repository root::

    .venv/bin/python benchmarks/bench_monitor.py

Four uvicorn servers on 127.0.0.1 serve the same FastAPI app (an ``async def`` endpoint
awaiting an ``AsyncRepository`` method): one ``install(app)`` (the anchor), one
``install(app)`` again (the control: what noise alone looks like), one
``install(app, monitor=True)`` (the default ``MonitorConfig``: 1% of layer calls and
endpoints timed, the loop-lag sentinel every 0.5 s with its watchdog thread, limiter
statistics read each tick, OpenTelemetry when importable) and one with the monitor's
profile on too (``MonitorConfig(profile=...)``: 1% of requests profiled step by step, the
file written each minute and at shutdown).  Each round loads every server in turn, in a
rotating order, for a fixed time with keep-alive connections from a minimal raw-socket
client (so the client costs as little CPU as possible), several times, and keeps each
server's best (load from elsewhere only ever lowers a rate); the ratio is
the median over rounds of (requests/s / the anchor's requests/s in the same round).
A second section calls the same apps in process as ASGI apps (no network, no client):
the server-side cost alone, the worst case for the monitor's relative cost.  A third
isolates the profiler: the same app in process, bare and with the profiler alone.
Budget: >= 0.97x.  The report is printed and written to
``benchmarks/results/monitor.txt``; the exit status is 1 when the budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    RESULTS_DIR,
    SUMMARY,
    Server,
    argument_parser,
    header,
    progress_count,
    publish,
    report,
    rotation,
    spread,
    start_uvicorn,
    stop_server,
    verdict,
)

RESULTS = RESULTS_DIR / "monitor.txt"
BUDGET = 0.97
VARIANT_VAR = "BENCH_MONITOR_VARIANT"
APP_MODULE = "bench_monitor_app"
APP_SOURCE = f'''\
"""The app served by bench_monitor.py; {VARIANT_VAR} says whether the monitor is on."""

import os

from fastapi import FastAPI

from fastapi_boundary import AsyncRepository, MonitorConfig, install

from fastapi_boundary._runtime import step_timing


class Items(AsyncRepository):
    async def get(self, item_id: int) -> dict[str, object]:
        return {{"id": item_id, "name": "item", "tags": ["a", "b"]}}


items = Items()
app = FastAPI()


@app.get("/items/{{item_id}}")
async def read_item(item_id: int) -> dict[str, object]:
    return await items.get(item_id)


@app.get("/state")
async def state() -> dict[str, object]:
    return {{"timing": step_timing.active}}


variant = os.environ["{VARIANT_VAR}"]
if variant == "profile":  # the monitor and its profile: 1% of requests profiled (the default)
    profile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-profile-{{os.getpid()}}.json")
    install(app, monitor=MonitorConfig(profile=profile))
else:
    install(app, monitor=variant == "monitor")
'''

ANCHOR = "install(app)"
CONTROL = "control: install(app) again"
MONITOR = "install(app, monitor=True)"
PROFILED = "monitor with profile=..."
VARIANTS = {ANCHOR: "plain", CONTROL: "plain", MONITOR: "monitor", PROFILED: "profile"}
CHECKED = (MONITOR, PROFILED)  # the variants the budget applies to
READY_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Options:
    rounds: int = 16
    blocks: int = 3
    seconds: float = 0.6
    warmup: float = 0.2
    connections: int = 16
    asgi_requests: int = 6000
    asgi_repetitions: int = 30


def start_server(root: Path, name: str, variant: str) -> Server:
    return start_uvicorn(root, APP_MODULE, name, {VARIANT_VAR: variant}, lifespan="on")


async def get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


def wait_ready(server: Server) -> dict[str, object]:
    """Poll ``/state`` until it answers; returns what it says (is step timing on?)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {server.log.read_text(errors='replace')[-2000:]}")
        try:
            answer = asyncio.run(get(server.port, "/state"))
        except OSError:
            time.sleep(0.05)
            continue
        body = answer.partition(b"\r\n\r\n")[2]
        state: dict[str, object] = json.loads(body)
        return state
    raise RuntimeError(f"uvicorn on port {server.port} not ready after {READY_TIMEOUT_S} s")


@contextlib.contextmanager
def servers(root: Path) -> Iterator[tuple[dict[str, Server], dict[str, dict[str, object]]]]:
    (root / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    started: dict[str, Server] = {}
    try:
        for index, (label, variant) in enumerate(VARIANTS.items()):
            started[label] = start_server(root, f"{index}_{variant}", variant)
        states = {label: wait_ready(server) for label, server in started.items()}
        yield started, states
    finally:
        for server in started.values():
            stop_server(server)


async def client(port: int, item: int, stop_at: float, counts: list[int]) -> None:
    """One keep-alive connection sending requests back to back until ``stop_at``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /items/{item} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected response: {head[:80]!r}")
            counts[0] += 1
    finally:
        writer.close()


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux ``/proc``), ``None`` elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def load(port: int, options: Options) -> tuple[int, float, int]:
    """Requests and seconds of the measured ``options.seconds``, and requests in all."""
    warm = time.perf_counter() + options.warmup
    warmed = [0]
    await asyncio.gather(*(client(port, i, warm, warmed) for i in range(options.connections)))
    counts = [0]
    start = time.perf_counter()
    stop_at = start + options.seconds
    await asyncio.gather(*(client(port, i, stop_at, counts) for i in range(options.connections)))
    return counts[0], time.perf_counter() - start, counts[0] + warmed[0]


def ratio_lines(
    rates: dict[str, list[float]], unit: str, budget_checked: bool
) -> tuple[list[str], bool]:
    anchor = rates[ANCHOR]
    lines = [
        f"   anchor {ANCHOR}: {statistics.median(anchor):,.0f} {unit} (median), {spread(anchor, 0)}"
    ]
    passed = True
    for label in (CONTROL, *CHECKED):
        ratios = [side / base for side, base in zip(rates[label], anchor, strict=True)]
        median = statistics.median(ratios)
        lines.append(
            f"   {label:<30} {median:.3f}x  ({spread(ratios)}; "
            f"{statistics.median(rates[label]):,.0f} {unit})"
        )
        if label in CHECKED and budget_checked:
            ok = median >= BUDGET
            passed = passed and ok
            name = "monitor" if label == MONITOR else "monitor + profile"
            lines.append(f"   {name} {median:.3f}x >= {BUDGET:.2f}x  {verdict(ok)}")
    return lines, passed


def measure(options: Options) -> tuple[list[str], bool]:
    rates: dict[str, list[float]] = {label: [] for label in VARIANTS}
    per_cpu: dict[str, list[float]] = {label: [] for label in VARIANTS}
    with tempfile.TemporaryDirectory() as temporary, servers(Path(temporary)) as (running, states):
        labels = list(VARIANTS)
        for turn in range(options.rounds):
            best: dict[str, float] = dict.fromkeys(labels, 0.0)
            served: dict[str, int] = dict.fromkeys(labels, 0)
            used: dict[str, float] = dict.fromkeys(labels, 0.0)
            for block in range(options.blocks):
                for label in rotation(labels, turn * options.blocks + block):
                    pid = running[label].process.pid
                    before = cpu_seconds(pid)
                    count, seconds, total = asyncio.run(load(running[label].port, options))
                    after = cpu_seconds(pid)
                    best[label] = max(best[label], count / seconds)
                    if before is not None and after is not None:
                        served[label] += total  # the CPU read covers the warm-up too
                        used[label] += after - before
            for label in labels:
                rates[label].append(best[label])
                if used[label] > 0:
                    per_cpu[label].append(served[label] / used[label])
            progress_count("rounds", turn + 1, options.rounds)
    lines = [
        f"1. uvicorn on 127.0.0.1, FastAPI async endpoint awaiting an AsyncRepository method; "
        f"{options.connections} keep-alive connections; a round loads each server "
        f"{options.blocks} times for {options.seconds} s (after {options.warmup} s of warm-up), "
        f"alternating in a rotating order, and keeps each server's best; {options.rounds} "
        f"rounds (budget: monitor >= {BUDGET:.2f}x)",
        "   step timing on in the servers: "
        + ", ".join(f"{label}: {states[label]['timing']}" for label in VARIANTS),
        f"   load average of the machine (1 min) at the end: {os.getloadavg()[0]:.2f}",
        "   a) requests/s (each server's best slice per round):",
    ]
    rate_lines, passed = ratio_lines(rates, "requests/s", budget_checked=True)
    lines.extend(rate_lines)
    if all(len(values) == options.rounds for values in per_cpu.values()):
        lines.append(
            "   b) requests per CPU-second of the server process (its /proc utime + stime, "
            "watchdog threads included, over every slice and its warm-up): what a request "
            "costs the server, much less sensitive to other load on the machine"
        )
        cpu_lines, cpu_passed = ratio_lines(per_cpu, "requests/CPU-s", budget_checked=True)
        lines.extend(cpu_lines)
        passed = passed and cpu_passed
    monitored = (
        states[MONITOR]["timing"] is True
        and states[PROFILED]["timing"] is True
        and states[ANCHOR]["timing"] is False
    )
    lines.append(f"   the monitor was running in its server only: {verdict(monitored)}")
    return lines, passed and monitored


# --- 2. in process: the ASGI app called directly (no network, no client) ----------------


def build_app(variant: str) -> Any:
    """The benchmark app of ``variant``, built in this process from the same source."""
    os.environ[VARIANT_VAR] = variant
    namespace: dict[str, Any] = {"__name__": f"{APP_MODULE}_{variant}"}
    exec(compile(APP_SOURCE, f"<{APP_MODULE}>", "exec"), namespace)
    return namespace["app"]


class Lifespan:
    """Runs an ASGI app's lifespan in a task: the monitor starts and stops with it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        assert message["type"] == "lifespan.startup.complete", message

    async def __aexit__(self, *exc: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        assert self.task is not None
        await self.task


async def asgi_requests_per_second(app: Any, requests: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    for i in range(requests):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/items/{i}",
            "raw_path": f"/items/{i}".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        await app(scope, receive, send)
    return requests / (time.perf_counter() - start)


async def alternating(
    labels: list[str],
    options: Options,
    rate_of: Callable[[str, int], Awaitable[float]],
    what: str,
) -> dict[str, list[float]]:
    """Each label's best block per repetition, the labels in a rotating order."""
    rates: dict[str, list[float]] = {label: [] for label in labels}
    per_block = max(options.asgi_requests // options.blocks, 100)
    for turn in range(options.asgi_repetitions):
        best: dict[str, float] = dict.fromkeys(labels, 0.0)
        for block in range(options.blocks):
            for label in rotation(labels, turn * options.blocks + block):
                best[label] = max(best[label], await rate_of(label, per_block))
        for label in labels:
            rates[label].append(best[label])
        progress_count(what, turn + 1, options.asgi_repetitions)
    return rates


async def measure_in_process(options: Options) -> dict[str, list[float]]:
    apps = {label: build_app(variant) for label, variant in VARIANTS.items()}

    async def rate_of(label: str, requests: int) -> float:
        async with Lifespan(apps[label]):  # the monitor runs only during its own slice
            await asgi_requests_per_second(apps[label], requests // 10)
            return await asgi_requests_per_second(apps[label], requests)

    return await alternating(list(VARIANTS), options, rate_of, "in process")


def in_process(options: Options) -> tuple[list[str], bool]:
    rates = asyncio.run(measure_in_process(options))
    lines = [
        f"2. In process: the same apps called as ASGI apps, no network and no client "
        f"(the server-side cost alone); {options.asgi_requests:,} requests per app per "
        f"repetition in {options.blocks} alternating blocks, each app's best block kept, its "
        f"lifespan (and so the monitor) running during its own blocks only; "
        f"{options.asgi_repetitions} repetitions (budget: monitor >= {BUDGET:.2f}x)",
    ]
    rate_lines, passed = ratio_lines(rates, "requests/s", budget_checked=True)
    return lines + rate_lines, passed


# --- 3. the profile's own cost, isolated: the same app with and without the profiler ---------


async def measure_profile_cost(options: Options) -> dict[str, list[float]]:
    from fastapi_boundary._runtime.profile import Profiler

    apps = {
        "no profiler": build_app("plain"),
        "profiled, 1% sampled (the default)": build_app("plain"),
        "profiled, every request": build_app("plain"),
    }
    labels = list(apps)
    Profiler(0.01).start(apps[labels[1]])  # the profiler alone: no sentinel, no step timing
    Profiler(1.0).start(apps[labels[2]])

    async def rate_of(label: str, requests: int) -> float:
        return await asgi_requests_per_second(apps[label], requests)

    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(Lifespan(app))
        return await alternating(labels, options, rate_of, "profile cost")


def profile_cost(options: Options) -> tuple[list[str], bool]:
    rates = asyncio.run(measure_profile_cost(options))
    labels = list(rates)
    anchor = rates[labels[0]]
    lines = [
        "3. The profile's own cost, isolated from the network and the rest of the monitor: "
        "the same app in process, bare and with the profiler alone wrapping its routes; "
        f"{options.asgi_requests:,} calls per side per repetition, in {options.blocks} "
        f"alternating blocks, best block kept; {options.asgi_repetitions} repetitions "
        f"(budget: profiled at the default rate >= {BUDGET:.2f}x)",
        f"   anchor {labels[0]}: {statistics.median(anchor):,.0f} requests/s (median), "
        f"{spread(anchor, 0)}",
    ]
    passed = True
    for label in labels[1:]:
        ratios = [side / base for side, base in zip(rates[label], anchor, strict=True)]
        median = statistics.median(ratios)
        lines.append(f"   {label:<38} {median:.3f}x  ({spread(ratios)})")
        if label == labels[1]:
            passed = median >= BUDGET
            lines.append(f"   profile {median:.3f}x >= {BUDGET:.2f}x  {verdict(passed)}")
    return lines, passed


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argument_parser(__doc__, argparse.ArgumentDefaultsHelpFormatter)
    d = Options()
    parser.add_argument("--rounds", type=int, default=d.rounds, help="rounds (at least 4)")
    parser.add_argument("--seconds", type=float, default=d.seconds, help="load per server")
    parser.add_argument("--warmup", type=float, default=d.warmup, help="warm-up per server")
    parser.add_argument("--connections", type=int, default=d.connections, help="connections")
    parser.add_argument("--blocks", type=int, default=d.blocks, help="slices per side and round")
    parser.add_argument("--asgi-requests", type=int, default=d.asgi_requests, help="2: requests")
    parser.add_argument("--asgi-repetitions", type=int, default=d.asgi_repetitions, help="2")
    ns = parser.parse_args(argv)
    if ns.rounds < 4 or ns.seconds <= 0 or ns.connections < 1 or ns.blocks < 1:
        parser.error("--rounds >= 4, --blocks >= 1, --seconds > 0 and --connections >= 1")
    if ns.asgi_requests < 100 or ns.asgi_repetitions < 5:
        parser.error("--asgi-requests >= 100 and --asgi-repetitions >= 5")
    return Options(
        ns.rounds,
        ns.blocks,
        ns.seconds,
        ns.warmup,
        ns.connections,
        ns.asgi_requests,
        ns.asgi_repetitions,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    gc.collect()
    gc.freeze()
    head = header(
        "fastapi-boundary production monitor benchmark",
        (
            "fastapi-boundary",
            "fastapi",
            "starlette",
            "anyio",
            "uvicorn",
            "h11",
            "httptools",
            "uvloop",
            "opentelemetry-api",
        ),
        summary=f"{SUMMARY} Event loop: asyncio (uvicorn --loop asyncio).",
    )
    lines, passed = measure(options)
    asgi_lines, asgi_passed = in_process(options)
    cost_lines, cost_passed = profile_cost(options)
    passed = passed and asgi_passed and cost_passed
    publish(report(head, [lines, asgi_lines, cost_lines], passed), RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
