"""Thread offload benchmarks: ``run_blocking``, ``Limiter.run``, ``to_async`` vs anyio and others.

Run from the repository root::

    .venv/bin/python benchmarks/bench_threads.py

Four measurements, each quoted as a ratio against an anchor measured in the
same run, interleaved so that machine drift hits every side alike:

1. per-call round trip of a no-op offloaded to a thread, vs ``anyio.to_thread.run_sync``
   (with a limiter that has a time limit among the sides);
2. wall time of 1000 concurrent ``time.sleep(0.001)`` offloads, vs anyio's default limiter;
3. end to end: latency of a cheap ``async def`` endpoint of a FastAPI app served by uvicorn
   on loopback while other clients call an endpoint that sleeps 50 ms, (a) on the event loop
   ("fake async") vs (b) offloaded with ``run_blocking``;
4. requests/s of that cheap endpoint with ``install(app, cancel_on_disconnect=True)`` vs
   without it.

The report is printed and written to ``benchmarks/results/threads.txt``; the exit
status is 1 when a budget is missed.  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
from asgiref.sync import sync_to_async
from asyncer import asyncify
from starlette.concurrency import run_in_threadpool

from _harness import (
    RESULTS_DIR,
    SUMMARY,
    Server,
    argument_parser,
    header,
    progress_count,
    publish,
    report,
    spread,
    start_uvicorn,
    stop_server,
    verdict,
)
from fastapi_boundary import Limiter, run_blocking, to_async

RESULTS = RESULTS_DIR / "threads.txt"

CALL_BUDGET = 1.05  # run_blocking per call vs anyio, and below starlette's and asyncer's ratios
BURST_BUDGET = 1.0  # run_blocking burst wall time vs anyio's default limiter
E2E_BUDGET = 0.5  # sanity check: offloaded /cheap p50 and p99 at most half the fake-async ones
# a limiter with a time limit vs anyio.fail_after around anyio.to_thread.run_sync: both pay a
# cancel scope with a deadline per call; ours also keeps the token for an abandoned thread
LIMIT_BUDGET = 1.10

BENCH_LIMITER = Limiter("bench")  # the default size, 40, as anyio's default limiter
LIMITED = Limiter("bench-limit", timeout=60.0)  # the same, with a time limit never reached


@dataclass
class Options:
    """Sample sizes (the defaults keep a run under about a minute on 2 cores)."""

    calls: int = 6000
    call_blocks: int = 10
    burst_reps: int = 15
    burst_best_of: int = 3
    burst_size: int = 1000
    burst_sleep: float = 0.001
    e2e_rounds: int = 4
    e2e_cheap_clients: int = 20
    e2e_requests: int = 25
    e2e_blocking_clients: int = 4
    e2e_sleep: float = 0.05
    rps_rounds: int = 10
    rps_clients: int = 16
    rps_requests: int = 100
    asgi_requests: int = 5000
    sections: tuple[int, ...] = (1, 2, 3, 4)
    seed: int = 20241125


# --- statistics ----------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (nearest rank on the sorted values)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Rows:
    """Samples of several sides, taken in shuffled order within each repetition."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def ratios(self, name: str, anchor: str, block: int = 1) -> list[float]:
        """Per-block ratios: median of ``name`` over median of ``anchor`` in each block."""
        a, b = self.samples[name], self.samples[anchor]
        out = []
        for start in range(0, len(a) - block + 1, block):
            out.append(
                statistics.median(a[start : start + block])
                / statistics.median(b[start : start + block])
            )
        return out


# --- 1. per-call round trip ----------------------------------------------------------------


def noop() -> None:
    return None


class Service:
    """A sync object for ``to_async``."""

    def noop(self) -> None:
        return None


ANCHOR = "anyio.to_thread.run_sync (anchor)"
CONTROL = "control: anyio.to_thread.run_sync again"
RUN_BLOCKING = "fastapi_boundary run_blocking"
STARLETTE = "starlette run_in_threadpool"
ASYNCER = "asyncer asyncify"
WITH_LIMIT = 'fastapi_boundary Limiter("bench-limit", timeout=60).run'
FAIL_AFTER = "anyio fail_after(60) around to_thread.run_sync"


async def anyio_fail_after() -> None:
    with anyio.fail_after(60.0):
        await anyio.to_thread.run_sync(noop)


def call_ops() -> dict[str, Callable[[], Awaitable[object]]]:
    proxy = to_async(Service())
    asyncified = asyncify(noop)
    asgiref_noop = sync_to_async(noop)  # thread_sensitive=True, its default
    return {
        ANCHOR: lambda: anyio.to_thread.run_sync(noop),
        CONTROL: lambda: anyio.to_thread.run_sync(noop),
        RUN_BLOCKING: lambda: run_blocking(noop),
        'fastapi_boundary Limiter("bench").run': lambda: BENCH_LIMITER.run(noop),
        WITH_LIMIT: lambda: LIMITED.run(noop),
        FAIL_AFTER: anyio_fail_after,
        "fastapi_boundary to_async(obj).noop()": lambda: proxy.noop(),
        STARLETTE: lambda: run_in_threadpool(noop),
        ASYNCER: lambda: asyncified(),
        "asgiref sync_to_async (one thread: serializes)": lambda: asgiref_noop(),
    }


async def measure_calls(options: Options) -> Rows:
    ops = call_ops()
    names = list(ops)
    rng = random.Random(options.seed)
    rows = Rows()
    for _ in range(200):  # warm up: worker threads, caches, the proxy's method cache
        for name in names:
            await ops[name]()
    gc.collect()
    step = max(1, options.calls // 10)
    clock = time.perf_counter
    for index in range(options.calls):
        rng.shuffle(names)
        for name in names:
            op = ops[name]
            start = clock()
            await op()
            rows.add(name, clock() - start)
        if (index + 1) % step == 0:
            progress_count("per-call", index + 1, options.calls)
    return rows


def run_calls(options: Options) -> tuple[list[str], bool]:
    rows = anyio.run(measure_calls, options, backend="asyncio")
    block = max(1, options.calls // options.call_blocks)
    anchor_us = statistics.median(rows.samples[ANCHOR]) * 1e6
    lines = [
        f"1. Per-call round trip of a no-op function (budget: run_blocking <= {CALL_BUDGET:.2f}x "
        "anyio and below starlette's and asyncer's ratios; a limiter with a time limit <= "
        f"{LIMIT_BUDGET:.2f}x anyio's fail_after around anyio)",
        f"   {options.calls:,} calls per side, every side once per repetition in shuffled order; "
        f"ratio = median over {options.calls // block} blocks of {block} calls of "
        "(median µs / anchor's median µs in that block)",
        f"   anchor anyio.to_thread.run_sync: {anchor_us:.1f} µs/call (median)",
    ]
    ratio_of: dict[str, float] = {}
    for name in rows.samples:
        if name == ANCHOR:
            continue
        ratios = rows.ratios(name, ANCHOR, block)
        ratio_of[name] = statistics.median(ratios)
        overall = statistics.median(rows.samples[name]) / statistics.median(rows.samples[ANCHOR])
        lines.append(
            f"   {name:<48} {ratio_of[name]:.3f}x  ({spread(ratios)}; all calls "
            f"{overall:.3f}x; {statistics.median(rows.samples[name]) * 1e6:.1f} µs/call)"
        )
    ours = ratio_of[RUN_BLOCKING]
    checks = [
        (f"run_blocking {ours:.3f}x <= {CALL_BUDGET:.2f}x", ours <= CALL_BUDGET),
        (
            f"run_blocking {ours:.3f}x < starlette {ratio_of[STARLETTE]:.3f}x",
            ours < ratio_of[STARLETTE],
        ),
        (f"run_blocking {ours:.3f}x < asyncer {ratio_of[ASYNCER]:.3f}x", ours < ratio_of[ASYNCER]),
        (
            f"with a time limit {ratio_of[WITH_LIMIT]:.3f}x <= {LIMIT_BUDGET:.2f} x fail_after "
            f"{ratio_of[FAIL_AFTER]:.3f}x",
            ratio_of[WITH_LIMIT] <= LIMIT_BUDGET * ratio_of[FAIL_AFTER],
        ),
    ]
    lines.extend(f"   {text}  {verdict(ok)}" for text, ok in checks)
    return lines, all(ok for _, ok in checks)


# --- 2. burst of concurrent offloads -------------------------------------------------------

SleepOp = Callable[[float], Awaitable[object]]


def burst_ops() -> dict[str, SleepOp]:
    asyncified_sleep = asyncify(time.sleep)
    return {
        ANCHOR: lambda s: anyio.to_thread.run_sync(time.sleep, s),
        CONTROL: lambda s: anyio.to_thread.run_sync(time.sleep, s),
        RUN_BLOCKING: lambda s: run_blocking(time.sleep, s),
        'fastapi_boundary Limiter("bench").run': lambda s: BENCH_LIMITER.run(time.sleep, s),
        STARLETTE: lambda s: run_in_threadpool(time.sleep, s),
        ASYNCER: lambda s: asyncified_sleep(s),
    }


async def one_burst(op: SleepOp, size: int, sleep: float) -> float:
    async def call() -> None:
        await op(sleep)

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(size):
            group.start_soon(call)
    return time.perf_counter() - start


async def measure_bursts(options: Options) -> Rows:
    ops = burst_ops()
    names = list(ops)
    rng = random.Random(options.seed + 1)
    rows = Rows()
    for name in names:  # warm up: all 40 worker threads exist before the first sample
        await one_burst(ops[name], options.burst_size, options.burst_sleep)
    for rep in range(options.burst_reps):
        rng.shuffle(names)
        for name in names:
            best = math.inf
            for _ in range(options.burst_best_of):
                gc.collect()
                burst = await one_burst(ops[name], options.burst_size, options.burst_sleep)
                best = min(best, burst)
            rows.add(name, best)
        progress_count("burst", rep + 1, options.burst_reps)
    return rows


def run_bursts(options: Options) -> tuple[list[str], bool]:
    rows = anyio.run(measure_bursts, options, backend="asyncio")
    anchor_ms = statistics.median(rows.samples[ANCHOR]) * 1e3
    lines = [
        f"2. {options.burst_size} concurrent time.sleep({options.burst_sleep:g}) offloads in one "
        f"task group, wall time (budget: run_blocking <= {BURST_BUDGET:.2f}x anyio)",
        f"   {options.burst_reps} repetitions, every side once per repetition in shuffled order, "
        f"each sample the fastest of {options.burst_best_of} bursts; "
        "ratio = median of per-repetition ratios",
        f"   anchor anyio.to_thread.run_sync, default CapacityLimiter(40): {anchor_ms:.1f} ms "
        "(median)",
    ]
    ours = 0.0
    for name in rows.samples:
        if name == ANCHOR:
            continue
        ratios = rows.ratios(name, ANCHOR)
        ratio = statistics.median(ratios)
        if name == RUN_BLOCKING:
            ours = ratio
        lines.append(
            f"   {name:<48} {ratio:.3f}x  ({spread(ratios)}; "
            f"{statistics.median(rows.samples[name]) * 1e3:.1f} ms)"
        )
    passed = ours <= BURST_BUDGET
    lines.append(f"   run_blocking {ours:.3f}x <= {BURST_BUDGET:.2f}x  {verdict(passed)}")
    return lines, passed


# --- 3. end to end: uvicorn on loopback ----------------------------------------------------

VARIANT_VAR = "BENCH_THREADS_VARIANT"
SLEEP_VAR = "BENCH_THREADS_SLEEP"
APP_MODULE = "bench_threads_app"
APP_SOURCE = f'''\
"""The app served for bench_threads.py; {VARIANT_VAR} picks the /blocking variant."""

import os
import time

from fastapi import FastAPI

from fastapi_boundary import run_blocking

SLEEP = float(os.environ["{SLEEP_VAR}"])
app = FastAPI()

if os.environ["{VARIANT_VAR}"] == "fake":

    @app.get("/blocking")
    async def blocking() -> dict[str, str]:
        time.sleep(SLEEP)  # blocks the event loop: "fake async"
        return {{"variant": "fake"}}

else:

    @app.get("/blocking")
    async def blocking() -> dict[str, str]:
        await run_blocking(time.sleep, SLEEP)
        return {{"variant": "offloaded"}}


@app.get("/cheap")
async def cheap() -> dict[str, object]:
    return {{"ok": True, "items": [1, 2, 3]}}
'''

FAKE = "(a) time.sleep inside async def"
OFFLOADED = "(b) await run_blocking(time.sleep, ...)"
VARIANTS = {FAKE: "fake", OFFLOADED: "offloaded"}
READY_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_S = 15.0
ROUND_TIMEOUT_S = 40.0


def start_server(root: Path, variant: str, sleep: float) -> Server:
    env = {VARIANT_VAR: variant, SLEEP_VAR: repr(sleep)}
    return start_uvicorn(root, APP_MODULE, variant, env, lifespan="off")


def wait_ready(server: Server) -> None:
    """Poll ``/cheap`` until it answers, for at most ``READY_TIMEOUT_S``."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with {server.process.returncode}: "
                    f"{server.log.read_text(errors='replace')[-2000:]}"
                )
            try:
                if client.get("/cheap").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"uvicorn at {server.base_url} not ready after {READY_TIMEOUT_S} s")


@contextlib.contextmanager
def servers(root: Path, sleep: float) -> Iterator[dict[str, Server]]:
    (root / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    started: dict[str, Server] = {}
    try:
        for label, variant in VARIANTS.items():
            started[label] = start_server(root, variant, sleep)
        for server in started.values():
            wait_ready(server)
        yield started
    finally:
        for server in started.values():
            stop_server(server)


@dataclass(frozen=True)
class RoundResult:
    cheap: list[float]
    blocking_calls: int


async def load_round(base_url: str, options: Options, blocking_clients: int) -> RoundResult:
    """Blocking clients loop on /blocking while cheap clients make a fixed number of requests.

    Each client has its own ``httpx.AsyncClient`` with one keep-alive connection, opened
    before the clock starts: 20 tasks sharing one client's pool wait on the pool itself
    (p50 ~25 ms, p99 ~200 ms with no load on the server at all).
    """
    latencies: list[float] = []
    blocking_calls = 0
    done = anyio.Event()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    max_blocking = 10 * options.e2e_cheap_clients * options.e2e_requests  # a hard bound

    async def blocker(client: httpx.AsyncClient) -> None:
        nonlocal blocking_calls
        while not done.is_set() and blocking_calls < max_blocking:
            response = await client.get("/blocking")
            response.raise_for_status()
            blocking_calls += 1

    async def cheap(client: httpx.AsyncClient) -> None:
        for _ in range(options.e2e_requests):
            start = time.perf_counter()
            response = await client.get("/cheap")
            latencies.append(time.perf_counter() - start)
            response.raise_for_status()

    async def connect(client: httpx.AsyncClient) -> None:
        (await client.get("/cheap")).raise_for_status()

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout)
            )
            for _ in range(blocking_clients + options.e2e_cheap_clients)
        ]
        blockers, cheaps = clients[:blocking_clients], clients[blocking_clients:]
        with anyio.fail_after(ROUND_TIMEOUT_S):
            async with anyio.create_task_group() as group:  # connect outside the measurement
                for client in (*blockers, *cheaps):
                    group.start_soon(connect, client)
            async with anyio.create_task_group() as outer:
                for client in blockers:
                    outer.start_soon(blocker, client)
                if blockers:
                    await anyio.sleep(2 * options.e2e_sleep)  # the blocking load is under way
                async with anyio.create_task_group() as group:
                    for client in cheaps:
                        group.start_soon(cheap, client)
                done.set()
    return RoundResult(latencies, blocking_calls)


NO_LOAD = "(c) control: (b) with no /blocking load"


def measured_round(url: str, options: Options, blocking_clients: int) -> RoundResult:
    """One round with the load generator's garbage collector off.

    Its pauses (up to ~100 ms for a full collection of this process) would
    otherwise show as server latency.  A round allocates a few MB at most.
    """
    gc.collect()
    gc.disable()
    try:
        return anyio.run(load_round, url, options, blocking_clients, backend="asyncio")
    finally:
        gc.enable()


def run_e2e(options: Options) -> tuple[list[str], bool]:
    root = Path(tempfile.mkdtemp(prefix="bench_threads_"))
    # variant -> (server, clients calling /blocking)
    plan = {
        FAKE: (FAKE, options.e2e_blocking_clients),
        OFFLOADED: (OFFLOADED, options.e2e_blocking_clients),
        NO_LOAD: (OFFLOADED, 0),
    }
    results: dict[str, list[RoundResult]] = {label: [] for label in plan}
    rng = random.Random(options.seed + 2)
    started = time.perf_counter()
    try:
        with servers(root, options.e2e_sleep) as running:
            warm = replace(options, e2e_requests=2)
            for server in running.values():  # warm up: first requests, worker threads
                anyio.run(load_round, server.base_url, warm, 1, backend="asyncio")
            order = list(plan)
            for rep in range(options.e2e_rounds):
                rng.shuffle(order)
                for label in order:
                    server_label, blocking_clients = plan[label]
                    url = running[server_label].base_url
                    result = measured_round(url, options, blocking_clients)
                    results[label].append(result)
                progress_count("end to end", rep + 1, options.e2e_rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    elapsed = time.perf_counter() - started
    lines = [
        f"3. End to end: FastAPI + uvicorn on 127.0.0.1; {options.e2e_blocking_clients} clients "
        f"loop on /blocking (sleeps {options.e2e_sleep * 1e3:g} ms) while "
        f"{options.e2e_cheap_clients} clients each make {options.e2e_requests} requests to /cheap "
        "(async def, small JSON)",
        f"   {options.e2e_rounds} rounds per variant, shuffled order; httpx.AsyncClient per "
        f"client, in this process; sanity check: (b)/(a) <= {E2E_BUDGET:.2f}x at p50 and p99; "
        f"section took {elapsed:.1f} s",
    ]
    pooled = {label: [x for r in rounds for x in r.cheap] for label, rounds in results.items()}
    for label, rounds in results.items():
        values = pooled[label]
        lines.append(
            f"   {label:<42} /cheap p50 {percentile(values, 50) * 1e3:7.2f} ms, "
            f"p99 {percentile(values, 99) * 1e3:7.2f} ms ({len(values)} requests; "
            f"/blocking calls per round {statistics.median(r.blocking_calls for r in rounds):g})"
        )
    ok = True
    for pct in (50, 99):
        ratio = percentile(pooled[OFFLOADED], pct) / percentile(pooled[FAKE], pct)
        per_round = [
            percentile(b.cheap, pct) / percentile(a.cheap, pct)
            for a, b in zip(results[FAKE], results[OFFLOADED], strict=True)
        ]
        passed = ratio <= E2E_BUDGET
        ok = ok and passed
        lines.append(
            f"   p{pct} ratio (b)/(a) {ratio:.3f}x (per round {spread(per_round)})  "
            f"{verdict(passed)}"
        )
    return lines, ok


# --- 4. cancel_on_disconnect: requests/s on and off ----------------------------------------

DISCONNECT_VAR = "BENCH_THREADS_CANCEL_ON_DISCONNECT"
DISCONNECT_MODULE = "bench_threads_disconnect_app"
DISCONNECT_SOURCE = f'''\
"""The app served for bench_threads.py section 4; {DISCONNECT_VAR} turns the option on."""

import os

from fastapi import FastAPI

from fastapi_boundary import install

app = FastAPI()


@app.get("/cheap")
async def cheap() -> dict[str, object]:
    return {{"ok": True, "items": [1, 2, 3]}}


install(app, check="off", cancel_on_disconnect=os.environ["{DISCONNECT_VAR}"] == "on")
'''
RPS_OFF = "(a) install(app)"
RPS_ON = "(b) install(app, cancel_on_disconnect=True)"
RPS_BUDGET = 0.85  # requests/s with the option on, at least this share of off (a cheap endpoint)
ASGI_BUDGET = 1.35  # in-process µs per request with the option on, at most this many times off
ASGI_SCOPE: dict[str, object] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/cheap",
    "raw_path": b"/cheap",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 2),
}


def cheap_app(cancel_on_disconnect: bool) -> object:
    from fastapi import FastAPI

    from fastapi_boundary import install

    app = FastAPI()

    @app.get("/cheap")
    async def cheap() -> dict[str, object]:
        return {"ok": True, "items": [1, 2, 3]}

    return install(app, check="off", cancel_on_disconnect=cancel_on_disconnect)


async def asgi_request(app: Any) -> None:
    """One GET through the app as a server would make it: the client stays to the end."""
    done = anyio.Event()

    async def receive() -> dict[str, object]:
        await done.wait()  # as uvicorn: nothing more until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(dict(ASGI_SCOPE), receive, send)


async def measure_asgi(options: Options) -> Rows:
    apps = {RPS_OFF: cheap_app(False), RPS_ON: cheap_app(True)}
    names = list(apps)
    rng = random.Random(options.seed + 4)
    rows = Rows()
    for _ in range(300):
        for app in apps.values():
            await asgi_request(app)
    gc.collect()
    clock = time.perf_counter
    for _ in range(options.asgi_requests):
        rng.shuffle(names)
        for name in names:
            start = clock()
            await asgi_request(apps[name])
            rows.add(name, clock() - start)
    return rows


async def rps_round(base_url: str, options: Options) -> float:
    """``rps_clients`` clients, one keep-alive connection each, ``rps_requests`` requests each."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in range(options.rps_requests):
            (await client.get("/cheap")).raise_for_status()

    async def connect(client: httpx.AsyncClient) -> None:
        (await client.get("/cheap")).raise_for_status()

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout)
            )
            for _ in range(options.rps_clients)
        ]
        with anyio.fail_after(ROUND_TIMEOUT_S):
            async with anyio.create_task_group() as group:  # connect outside the measurement
                for client in clients:
                    group.start_soon(connect, client)
            start = time.perf_counter()
            async with anyio.create_task_group() as group:
                for client in clients:
                    group.start_soon(client_loop, client)
            elapsed = time.perf_counter() - start
    return options.rps_clients * options.rps_requests / elapsed


def run_rps(options: Options) -> tuple[list[str], bool]:
    root = Path(tempfile.mkdtemp(prefix="bench_threads_rps_"))
    (root / f"{DISCONNECT_MODULE}.py").write_text(DISCONNECT_SOURCE)
    rows = Rows()
    rng = random.Random(options.seed + 3)
    started: dict[str, Server] = {}
    try:
        for label, flag in ((RPS_OFF, "off"), (RPS_ON, "on")):
            started[label] = start_uvicorn(
                root, DISCONNECT_MODULE, flag, {DISCONNECT_VAR: flag}, lifespan="on"
            )
        for server in started.values():
            wait_ready(server)
        order = list(started)
        for rep in range(options.rps_rounds):
            rng.shuffle(order)
            for label in order:
                gc.collect()
                gc.disable()
                try:
                    rows.add(label, anyio.run(rps_round, started[label].base_url, options))
                finally:
                    gc.enable()
            progress_count("requests/s", rep + 1, options.rps_rounds)
    finally:
        for server in started.values():
            stop_server(server)
        shutil.rmtree(root, ignore_errors=True)
    ratios = rows.ratios(RPS_ON, RPS_OFF)
    ratio = statistics.median(ratios)
    passed = ratio >= RPS_BUDGET
    asgi = anyio.run(measure_asgi, options, backend="asyncio")
    block = max(1, options.asgi_requests // 10)
    asgi_ratios = asgi.ratios(RPS_ON, RPS_OFF, block)
    asgi_ratio = statistics.median(asgi_ratios)
    off_us, on_us = (statistics.median(asgi.samples[name]) * 1e6 for name in (RPS_OFF, RPS_ON))
    asgi_passed = asgi_ratio <= ASGI_BUDGET
    lines = [
        f"4. cancel_on_disconnect: requests/s of /cheap (async def, small JSON), FastAPI + uvicorn "
        f"on 127.0.0.1; {options.rps_clients} clients x {options.rps_requests} requests per round "
        f"(budget: on >= {RPS_BUDGET:.2f}x off)",
        f"   {options.rps_rounds} rounds per variant, shuffled order; ratio = median of "
        "per-round ratios; the load generator shares the 2 cores with the server",
    ]
    for label in (RPS_OFF, RPS_ON):
        lines.append(
            f"   {label:<48} {statistics.median(rows.samples[label]):8.0f} requests/s (median)"
        )
    lines.append(
        f"   on / off {ratio:.3f}x (per round {spread(ratios)}) >= {RPS_BUDGET:.2f}x  "
        f"{verdict(passed)}"
    )
    lines += [
        f"   in process, no server: {options.asgi_requests:,} GETs of /cheap through the ASGI app "
        "per side, interleaved; ratio = median over 10 blocks (budget: on <= "
        f"{ASGI_BUDGET:.2f}x off)",
        f"   {RPS_OFF:<48} {off_us:8.1f} µs/request (median)",
        f"   {RPS_ON:<48} {on_us:8.1f} µs/request (median; +{on_us - off_us:.1f} µs)",
        f"   on / off {asgi_ratio:.3f}x ({spread(asgi_ratios)}) <= {ASGI_BUDGET:.2f}x  "
        f"{verdict(asgi_passed)}",
    ]
    return lines, passed and asgi_passed


# --- report --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argument_parser(__doc__, argparse.ArgumentDefaultsHelpFormatter)
    d = Options()
    add = parser.add_argument
    add("--calls", type=int, default=d.calls, help="1: calls per side (at least 5000)")
    add("--call-blocks", type=int, default=d.call_blocks, help="1: blocks for the ratio spread")
    add("--burst-reps", type=int, default=d.burst_reps, help="2: repetitions (at least 9)")
    add("--burst-best-of", type=int, default=d.burst_best_of, help="2: bursts per sample")
    add("--burst-size", type=int, default=d.burst_size, help="2: concurrent offloads per burst")
    add("--burst-sleep", type=float, default=d.burst_sleep, help="2: seconds each offload sleeps")
    add("--e2e-rounds", type=int, default=d.e2e_rounds, help="3: rounds per variant")
    add("--e2e-cheap-clients", type=int, default=d.e2e_cheap_clients, help="3: /cheap clients")
    add("--e2e-requests", type=int, default=d.e2e_requests, help="3: requests per /cheap client")
    add("--e2e-blocking-clients", type=int, default=d.e2e_blocking_clients, help="3: /blocking")
    add("--e2e-sleep", type=float, default=d.e2e_sleep, help="3: seconds /blocking sleeps")
    add("--rps-rounds", type=int, default=d.rps_rounds, help="4: rounds per variant")
    add("--rps-clients", type=int, default=d.rps_clients, help="4: concurrent clients")
    add("--rps-requests", type=int, default=d.rps_requests, help="4: requests per client")
    add("--asgi-requests", type=int, default=d.asgi_requests, help="4: in-process requests")
    add(
        "--sections",
        default=",".join(map(str, d.sections)),
        help="comma-separated sections to run (1,2,3,4); a partial run does not write the results",
    )
    add("--seed", type=int, default=d.seed, help="seed of the shuffled orders")
    ns = parser.parse_args(argv)
    sections = tuple(sorted({int(part) for part in ns.sections.split(",") if part.strip()}))
    if not set(sections) <= {1, 2, 3, 4} or not sections:
        parser.error("--sections takes numbers among 1, 2, 3, 4")
    if ns.calls < 5000:
        parser.error("--calls must be at least 5000")
    if ns.burst_reps < 9:
        parser.error("--burst-reps must be at least 9")
    if min(ns.call_blocks, ns.e2e_rounds, ns.burst_best_of) < 1:
        parser.error("--call-blocks, --e2e-rounds and --burst-best-of must be at least 1")
    return Options(
        calls=ns.calls,
        call_blocks=ns.call_blocks,
        burst_reps=ns.burst_reps,
        burst_best_of=ns.burst_best_of,
        burst_size=ns.burst_size,
        burst_sleep=ns.burst_sleep,
        e2e_rounds=ns.e2e_rounds,
        e2e_cheap_clients=ns.e2e_cheap_clients,
        e2e_requests=ns.e2e_requests,
        e2e_blocking_clients=ns.e2e_blocking_clients,
        e2e_sleep=ns.e2e_sleep,
        rps_rounds=ns.rps_rounds,
        rps_clients=ns.rps_clients,
        rps_requests=ns.rps_requests,
        asgi_requests=ns.asgi_requests,
        sections=sections,
        seed=ns.seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    # Move the imported modules' objects out of the collector's way: full collections of
    # this process's heap are harness noise, not a cost of what is measured.
    gc.collect()
    gc.freeze()
    head = header(
        "fastapi-boundary thread offload benchmarks",
        (
            "fastapi-boundary",
            "fastapi",
            "starlette",
            "anyio",
            "asyncer",
            "asgiref",
            "httpx",
            "uvicorn",
            "h11",
            "uvloop",
            "httptools",
        ),
        summary=f"{SUMMARY} Event loop: asyncio.",
    )
    runners = {1: run_calls, 2: run_bursts, 3: run_e2e, 4: run_rps}
    results = [runners[number](options) for number in options.sections]
    passed = all(ok for _, ok in results)
    complete = options.sections == (1, 2, 3, 4)  # a partial run does not write the results
    publish(
        report(head, [section for section, _ in results], passed), RESULTS if complete else None
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
