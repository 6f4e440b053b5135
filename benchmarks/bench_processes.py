"""Process offload benchmarks: ``run_cpu`` vs ``anyio.to_process`` and ``ProcessPoolExecutor``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_processes.py

Three measurements, each quoted as a ratio against anchors measured in the same
run, the sides interleaved so that machine drift hits all of them:

1. per-call round trip of a no-op in a warm worker process: ``run_cpu`` vs
   ``anyio.to_process.run_sync`` (budget <= 1.1x) and vs
   ``loop.run_in_executor(ProcessPoolExecutor)`` (budget <= 0.8x);
2. wall time of 200 concurrent calls of a ~1 ms CPU-bound function, one
   worker per CPU on every side (informational);
3. the first call in a fresh event loop (a worker starts): ``run_cpu`` vs a
   bare ``anyio.to_process.run_sync`` first call (budget <= 1.5x).

``run_cpu`` runs on anyio's workers (through its trampoline), so sides 1 and
anyio share the loop's worker processes: the ratio is what the pool adds.

The report is printed and written to ``benchmarks/results/processes.txt``; the
exit status is 1 when a budget is missed.  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import multiprocessing
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_process

import process_targets  # benchmarks/ is sys.path[0]: every pool's workers import it by name
from _harness import (
    RESULTS_DIR,
    argument_parser,
    header,
    progress,
    progress_count,
    publish,
    report,
    rotation,
    spread,
    verdict,
)
from fastapi_boundary._offload import process_trampoline
from fastapi_boundary._offload.process_pool import ProcessPool

RESULTS = RESULTS_DIR / "processes.txt"
TRAMPOLINE = "anyio + trampoline alone"

ANYIO_BUDGET = 1.1
EXECUTOR_BUDGET = 0.8
FIRST_CALL_BUDGET = 1.5
WORKERS = os.cpu_count() or 1

Call = Callable[..., Coroutine[Any, Any, Any]]


@dataclass
class Options:
    """Sample sizes (the defaults keep a run under a minute on 2 cores)."""

    calls: int = 5000  # per side, interleaved call by call
    block: int = 250  # calls per block: one ratio per block gives the spread
    burst: int = 200
    burst_reps: int = 15
    burst_ms: float = 1.0
    first_calls: int = 12  # fresh event loops per side for the first-call figure


# --- the three sides ---------------------------------------------------------------------


class Sides:
    """``run_cpu``'s pool, anyio's per-loop workers and a ProcessPoolExecutor, all warm."""

    def __init__(self) -> None:
        self.pool = ProcessPool(WORKERS)
        self.executor = concurrent.futures.ProcessPoolExecutor(WORKERS)
        self.limiter = anyio.CapacityLimiter(WORKERS)

    async def ours(self, func: Callable[..., Any], *args: Any) -> Any:
        return await self.pool.run(func, *args)

    async def anyio(self, func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_process.run_sync(func, *args, limiter=self.limiter)

    async def trampoline(self, func: Callable[..., Any], *args: Any) -> Any:
        """anyio with run_cpu's worker side only (no pool): where the overhead is."""
        request = pickle.dumps((func.__module__, func.__qualname__, args, {}))
        return await anyio.to_process.run_sync(
            process_trampoline.call, os.getpid(), self.pool.timeout, request, limiter=self.limiter
        )

    async def executor_call(self, func: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, func, *args)

    def named(self) -> list[tuple[str, Call]]:
        return [
            ("run_cpu", self.ours),
            ("anyio.to_process.run_sync", self.anyio),
            ("ProcessPoolExecutor", self.executor_call),
        ]

    async def warm(self) -> None:
        """Start every worker on every side before anything is timed."""
        await self.pool.start()
        for _, call in self.named():
            async with anyio.create_task_group() as group:
                for _ in range(WORKERS * 4):
                    group.start_soon(call, process_targets.crunch, 20_000)
            for _ in range(200):
                await call(process_targets.noop)

    async def close(self) -> None:
        await self.pool.shutdown()
        self.executor.shutdown(wait=True)


# --- 1. round trip -----------------------------------------------------------------------


async def round_trip(sides: Sides, options: Options) -> tuple[list[str], bool]:
    """Per-call times, the sides interleaved call by call, in every order in turn.

    Every order, not a rotation: with three sides a rotation puts one side right after
    ``ProcessPoolExecutor`` two rounds in three, and its result thread still holds the GIL
    then (measured: +40 us on whichever side follows it).  Over the six orders each side
    follows each other side equally often.
    """
    named = [*sides.named(), (TRAMPOLINE, sides.trampoline)]
    orders = list(itertools.permutations(named))
    times: dict[str, list[float]] = {name: [] for name, _ in named}
    clock = time.perf_counter
    noop = process_targets.noop
    gc.collect()
    for index in range(options.calls):
        for name, call in orders[index % len(orders)]:
            started = clock()
            await call(noop)
            times[name].append(clock() - started)
        if (index + 1) % 500 == 0:
            progress_count("round trip", index + 1, options.calls)
    ours = times["run_cpu"]
    lines = [
        f"1. Round trip of a no-op in a warm worker process, {options.calls} calls per side "
        f"interleaved call by call in every order; ratio of medians, spread over blocks of "
        f"{options.block} calls",
        "   "
        + ", ".join(f"{name} {statistics.median(t) * 1e6:.1f} us" for name, t in times.items())
        + " (medians)",
    ]
    passed = True
    for anchor, budget in (
        ("anyio.to_process.run_sync", ANYIO_BUDGET),
        ("ProcessPoolExecutor", EXECUTOR_BUDGET),
    ):
        ratio = statistics.median(ours) / statistics.median(times[anchor])
        blocks = [
            statistics.median(ours[i : i + options.block])
            / statistics.median(times[anchor][i : i + options.block])
            for i in range(0, options.calls, options.block)
        ]
        ok = ratio <= budget
        passed &= ok
        lines.append(
            f"   run_cpu vs {anchor:<26} {ratio:.3f}x  (blocks: {spread(blocks)}; "
            f"budget <= {budget}x)  {verdict(ok)}"
        )
    alone = statistics.median(times[TRAMPOLINE]) / statistics.median(
        times["anyio.to_process.run_sync"]
    )
    lines.append(
        f"   of which the worker's side ({TRAMPOLINE}: fds hidden, time limit armed, state put "
        f"back, answer packed): {alone:.3f}x anyio (informational)"
    )
    return lines, passed


# --- 2. burst ----------------------------------------------------------------------------


async def burst(sides: Sides, options: Options, iterations: int) -> list[str]:
    """Wall time of ``burst`` concurrent CPU-bound calls; sides rotated each repetition."""
    named = sides.named()
    walls: dict[str, list[float]] = {name: [] for name, _ in named}

    async def one_burst(call: Call) -> float:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(options.burst):
                group.start_soon(call, process_targets.crunch, iterations)
        return time.perf_counter() - started

    for rep in range(options.burst_reps):
        for name, call in rotation(named, rep):
            gc.collect()
            walls[name].append(await one_burst(call))
        progress_count("burst", rep + 1, options.burst_reps)
    one_call = _median_time(process_targets.crunch, iterations)
    lines = [
        f"2. {options.burst} concurrent calls of a ~{options.burst_ms:g} ms CPU-bound function, "
        f"{WORKERS} workers per side, {options.burst_reps} interleaved repetitions "
        f"(informational)",
        f"   one call inline here: {one_call * 1e3:.2f} ms; ideal (that x {options.burst} / "
        f"{WORKERS} workers): {one_call * options.burst / WORKERS * 1e3:.0f} ms",
    ]
    ours = walls["run_cpu"]
    for name, wall in walls.items():
        ratios = [a / b for a, b in zip(ours, wall, strict=True)]
        lines.append(
            f"   {name:<26} {statistics.median(wall) * 1e3:6.1f} ms"
            + (
                ""
                if name == "run_cpu"
                else f"   run_cpu vs it {statistics.median(ratios):.3f}x ({spread(ratios)})"
            )
        )
    return lines


def _median_time(func: Callable[[int], object], argument: int, samples: int = 50) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        func(argument)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def calibrate(milliseconds: float) -> int:
    """Iterations of ``crunch`` that take about ``milliseconds`` here."""
    iterations = 20_000
    seconds = _median_time(process_targets.crunch, iterations)
    return max(1, round(iterations * milliseconds / 1000 / seconds))


# --- report ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argument_parser(__doc__)
    defaults = Options()
    parser.add_argument("--calls", type=int, default=defaults.calls, help="round trips per side")
    parser.add_argument("--block", type=int, default=defaults.block)
    parser.add_argument("--burst", type=int, default=defaults.burst)
    parser.add_argument("--burst-reps", type=int, default=defaults.burst_reps)
    namespace = parser.parse_args(argv)
    if namespace.calls < 2000:
        parser.error("--calls must be at least 2000")
    return Options(namespace.calls, namespace.block, namespace.burst, namespace.burst_reps)


def first_call(options: Options) -> tuple[list[str], bool]:
    """The first call in a fresh event loop: a worker starts, then runs a no-op; sides rotated."""

    async def ours() -> None:
        await ProcessPool(1).run(process_targets.noop)

    async def bare() -> None:
        await anyio.to_process.run_sync(process_targets.noop)

    named: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
        ("run_cpu", ours),
        ("anyio.to_process.run_sync", bare),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in named}
    for rep in range(options.first_calls):
        for name, call in rotation(named, rep):
            started = time.perf_counter()
            anyio.run(call)  # the loop's end stops its worker: the next one starts afresh
            times[name].append(time.perf_counter() - started)
        progress_count("first call", rep + 1, options.first_calls)
    ratios = [
        a / b for a, b in zip(times["run_cpu"], times["anyio.to_process.run_sync"], strict=True)
    ]
    ratio = statistics.median(times["run_cpu"]) / statistics.median(
        times["anyio.to_process.run_sync"]
    )
    ok = ratio <= FIRST_CALL_BUDGET
    return [
        f"3. First call in a fresh event loop (a worker process starts, then runs a no-op), "
        f"{options.first_calls} loops per side, interleaved",
        "   "
        + ", ".join(f"{name} {statistics.median(t) * 1e3:.1f} ms" for name, t in times.items())
        + " (medians, event loop start and end included)",
        f"   run_cpu vs anyio.to_process.run_sync   {ratio:.3f}x  (pairs: {spread(ratios)}; "
        f"budget <= {FIRST_CALL_BUDGET}x)  {verdict(ok)}",
    ], ok


async def run(options: Options) -> tuple[list[list[str]], bool]:
    iterations = calibrate(options.burst_ms)
    sides = Sides()
    try:
        progress("warming up every pool")
        await sides.warm()
        first, passed = await round_trip(sides, options)
        second = await burst(sides, options, iterations)
    finally:
        await sides.close()
    return [first, second], passed


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    started = time.perf_counter()
    sections, passed = anyio.run(run, options)
    third, first_ok = first_call(options)
    sections.append(third)
    passed &= first_ok
    head = header(
        "fastapi-boundary process offload benchmarks",
        ("fastapi-boundary", "anyio"),
        versions_note="; event loop: asyncio; ProcessPoolExecutor start method: "
        f"{multiprocessing.get_start_method()}",
        summary="Figures are ratios against anchors measured in the same run, interleaved; "
        "medians, with spread.",
    )
    lines = report(head, sections, passed)
    lines.append(f"(run took {time.perf_counter() - started:.0f} s)")
    publish(lines, RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
