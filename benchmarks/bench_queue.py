"""Worker-queue offload (Celery on a real Redis): throughput, round trip and event-loop lag.

    .venv/bin/python benchmarks/bench_queue.py      # writes benchmarks/results/queue.txt

Needs ``redis-server`` on the PATH (the script starts its own on a free port) and the
celery extra.  Three worker pools run side by side (``celery worker`` with 1, 2 and 4
prefork processes, each on a queue of its own), so the throughput rounds are interleaved.

1. Throughput of a ~20 ms CPU task with 1, 2 and 4 worker processes, as a ratio against
   one process (budget: 2 processes >= 1.7x on a 2-core machine).
2. Round trip of ``await run_queued(add, 1, 2)`` against the naive pattern
   ``await run_in_threadpool(task.apply_async((1, 2)).get)``, interleaved call by call
   (budget <= 1.1x).
3. The event loop's lag while 1,000 ``run_queued`` calls are in flight, with the guard on
   (budget: 0 reports), against the same probe on an idle loop.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

import queue_tasks  # benchmarks/ is sys.path[0]: the workers import it by this name too
from _harness import (
    RESULTS_DIR,
    argument_parser,
    header,
    progress,
    publish,
    report,
    rotation,
    spread,
    verdict,
)
from fastapi_boundary import run_queued
from fastapi_boundary._queue.targets import QUEUE_LIMITER
from fastapi_boundary._runtime.guard import guarded

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from tests.queue.servers import CeleryWorker, RedisServer

RESULTS = RESULTS_DIR / "queue.txt"
SCALE_BUDGET = 1.7
ROUND_TRIP_BUDGET = 1.1


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = argument_parser(__doc__)
    parser.add_argument("--task-ms", type=float, default=20.0, help="CPU time of one task")
    parser.add_argument("--tasks", type=int, default=80, help="tasks per throughput round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved throughput rounds")
    parser.add_argument("--calls", type=int, default=400, help="round trips per side")
    parser.add_argument("--in-flight", type=int, default=1000, help="calls in flight (section 3)")
    parser.add_argument(
        "--threads", type=int, default=None, help="size of the queue limiter (default: its own)"
    )
    return parser.parse_args(argv)


async def _throughput(processes: int, tasks: int, task_ms: float) -> float:
    """Tasks per second through one pool, all sent at once."""
    burn = queue_tasks.BURN[processes]
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(tasks):
            group.start_soon(run_queued, burn, task_ms)
    return tasks / (time.perf_counter() - started)


async def throughput(options: Any) -> tuple[list[str], bool]:
    progress("1. throughput")
    load_before = os.getloadavg()[0]
    for processes in queue_tasks.POOLS:  # warm: every worker process has run the task
        await _throughput(processes, 4 * processes, 1.0)
    rates: dict[int, list[float]] = {n: [] for n in queue_tasks.POOLS}
    for turn in range(options.rounds):
        for processes in rotation(queue_tasks.POOLS, turn):
            rates[processes].append(await _throughput(processes, options.tasks, options.task_ms))
        progress(f"  round {turn + 1}/{options.rounds}")
    one = statistics.median(rates[1])
    lines = [
        f"1. Throughput of a task of {options.task_ms:g} ms of CPU time, {options.tasks} tasks "
        f"sent at once per round, {options.rounds} interleaved rounds; ratio against 1 worker "
        f"process",
        f"   the machine's load average (1 min) before and after: {load_before:.1f}, "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: scaling needs idle cores",
        f"   1 worker process: {one:.1f} tasks/s (median; ideal {1000 / options.task_ms:.1f})",
    ]
    passed = True
    for processes in queue_tasks.POOLS[1:]:
        ratios = [rate / base for rate, base in zip(rates[processes], rates[1], strict=True)]
        ratio = statistics.median(rates[processes]) / one
        line = (
            f"   {processes} worker processes: {statistics.median(rates[processes]):.1f} tasks/s, "
            f"{ratio:.2f}x  (rounds: {spread(ratios, 2)})"
        )
        if processes == 2:
            ok = ratio >= SCALE_BUDGET
            passed &= ok
            line += f"; budget >= {SCALE_BUDGET}x  {verdict(ok)}"
        else:
            cores = os.cpu_count() or 1
            ceiling = cores * 1000 / options.task_ms
            line += (
                f"; the ceiling is {cores} cores x {1000 / options.task_ms:g} tasks/s = "
                f"{ceiling:.0f} tasks/s ({statistics.median(rates[processes]) / ceiling:.0%} "
                f"reached): processes beyond the cores only hide each task's broker and result "
                f"round trip behind another's work"
            )
        lines.append(line)
    return lines, passed


async def round_trip(options: Any) -> tuple[list[str], bool]:
    progress("2. round trip")
    task = queue_tasks.app.tasks["queue_tasks.add"]

    async def ours() -> float:
        started = time.perf_counter()
        await run_queued(queue_tasks.add, 1, 2)
        return time.perf_counter() - started

    async def naive() -> float:
        started = time.perf_counter()
        # the anchor publishes on the loop, on purpose: the plugin rightly flags it
        await run_in_threadpool(task.apply_async((1, 2)).get)  # type: ignore[boundary-blocking-call]
        return time.perf_counter() - started

    async def offloaded() -> float:
        started = time.perf_counter()
        await run_in_threadpool(lambda: task.apply_async((1, 2)).get())
        return time.perf_counter() - started

    sides = {"run_queued": ours, "naive": naive, "naive, fully offloaded": offloaded}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(20):  # warm connections in every thread
        for side in sides.values():
            await side()
    for turn in range(options.calls):
        for name in rotation(list(sides), turn):
            times[name].append(await sides[name]())
    median = {name: statistics.median(values) for name, values in times.items()}
    block = 50
    ratios = [
        statistics.median(times["run_queued"][i : i + block])
        / statistics.median(times["naive"][i : i + block])
        for i in range(0, options.calls, block)
    ]
    ratio = median["run_queued"] / median["naive"]
    ok = ratio <= ROUND_TRIP_BUDGET
    return [
        f"2. Round trip of add(1, 2) on the 2-process pool, {options.calls} calls per side "
        f"interleaved call by call; ratio of medians, spread over blocks of {block} calls",
        "   " + ", ".join(f"{name} {median[name] * 1e3:.3f} ms" for name in sides) + " (medians)",
        "   the naive pattern, await run_in_threadpool(task.apply_async(...).get), publishes "
        "on the event loop; 'fully offloaded' publishes in the thread too",
        f"   run_queued vs naive  {ratio:.3f}x  (blocks: {spread(ratios)}; "
        f"budget <= {ROUND_TRIP_BUDGET}x)  {verdict(ok)}",
        f"   run_queued vs naive, fully offloaded  "
        f"{median['run_queued'] / median['naive, fully offloaded']:.3f}x",
    ], ok


async def _lag_probe(stop: anyio.Event, lags: list[float]) -> None:
    """How late a 5 ms sleep wakes up: the loop's lag."""
    while not stop.is_set():
        started = time.perf_counter()
        await anyio.sleep(0.005)
        lags.append(time.perf_counter() - started - 0.005)


async def loop_lag(options: Any) -> tuple[list[str], bool]:
    progress("3. loop lag")
    idle: list[float] = []
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(_lag_probe, stop, idle)
        await anyio.sleep(2.0)
        stop.set()
    busy: list[float] = []
    stop = anyio.Event()
    started = time.perf_counter()
    with guarded("warn") as recorder:
        recorder.clear()
        async with anyio.create_task_group() as probe:
            probe.start_soon(_lag_probe, stop, busy)
            async with anyio.create_task_group() as group:
                for _ in range(options.in_flight):
                    group.start_soon(run_queued, queue_tasks.burn_on_4, 1.0)
            stop.set()
        reports = len(recorder.names())
    elapsed = time.perf_counter() - started

    def quantiles(values: list[float]) -> tuple[float, float, float]:
        ordered = sorted(values)
        return (
            statistics.median(ordered) * 1e3,
            ordered[int(len(ordered) * 0.99) - 1] * 1e3,
            ordered[-1] * 1e3,
        )

    busy_q, idle_q = quantiles(busy), quantiles(idle)
    ok = reports == 0
    return [
        f"3. Event-loop lag (how late a 5 ms sleep wakes) while {options.in_flight} "
        f"run_queued calls of a 1 ms task are in flight on the 4-process pool "
        f"({elapsed:.1f} s; at most {QUEUE_LIMITER.size} publish or wait at once, the queue "
        f"limiter), the guard on",
        f"   busy: p50 {busy_q[0]:.2f} ms, p99 {busy_q[1]:.2f} ms, max {busy_q[2]:.2f} ms "
        f"({len(busy)} samples)",
        f"   idle loop (anchor): p50 {idle_q[0]:.2f} ms, p99 {idle_q[1]:.2f} ms, "
        f"max {idle_q[2]:.2f} ms ({len(idle)} samples)",
        f"   busy vs idle p99  {busy_q[1] / max(idle_q[1], 1e-6):.2f}x  (informational)",
        f"   guard reports: {reports}  (budget 0)  {verdict(ok)}",
    ], ok


async def run(options: Any) -> tuple[list[list[str]], bool]:
    sections: list[list[str]] = []
    passed = True
    for section in (throughput, round_trip, loop_lag):
        lines, ok = await section(options)
        sections.append(lines)
        passed &= ok
    return sections, passed


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.threads is not None:
        QUEUE_LIMITER.size = options.threads
    if not RedisServer.available():
        progress("bench_queue.py needs redis-server on the PATH (apt-get install redis-server)")
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        where = Path(directory)
        server = RedisServer(where).start()
        workers: list[CeleryWorker] = []
        try:
            queue_tasks.app.conf.update(broker_url=server.url, result_backend=server.url)
            for processes in queue_tasks.POOLS:
                workers.append(
                    CeleryWorker(
                        "queue_tasks",
                        server.url,
                        where / f"worker-{processes}.log",
                        concurrency=processes,
                        queue=queue_tasks.queue_of(processes),
                        name=f"bench{processes}",
                        cwd=Path(__file__).resolve().parent,
                    )
                )
            sections, passed = anyio.run(run, options)
        finally:
            for worker in workers:
                worker.stop()
            queue_tasks.app.close()
            server.stop()
    head = header(
        "fastapi-boundary worker-queue benchmarks (Celery, Redis broker and result backend)",
        ("fastapi-boundary", "celery", "kombu", "redis", "anyio"),
        versions_note="; event loop: asyncio; workers: celery worker --pool prefork",
    )
    lines = report(head, sections, passed)
    lines.append(f"(run took {time.perf_counter() - started:.0f} s)")
    publish(lines, RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
