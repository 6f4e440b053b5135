"""Step timing benchmark: microseconds added per async layer call vs a plain await.

Run from the repository root::

    .venv/bin/python benchmarks/bench_steps.py

Every side awaits the same method body in one asyncio loop, in blocks that alternate
between the sides in a rotating order; a repetition keeps each side's fastest block, and
each figure is the median over repetitions of (side's µs per call - plain's µs per call
in the same repetition), with its spread:

- plain: an ``async def`` method of a class that is no layer (the anchor);
- control: the same again on another plain class (what the noise alone looks like);
- declared, timing off: the method of an ``AsyncRepository`` (marking adds no wrapper);
- timed: the same layer method while step timing is on (every call driven and timed);
- sampled 1%: step timing with ``sample_rate=0.01`` (the monitor's default).

Two bodies: one that returns at once (one step) and one that awaits ``asyncio.sleep(0)``
(two steps, one suspension).  Budget: timing adds <= 1 µs per call.  The report is
printed and written to ``benchmarks/results/steps.txt``; the exit status is 1 when the
budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

from _harness import (
    RESULTS_DIR,
    SUMMARY,
    argument_parser,
    header,
    progress_count,
    publish,
    report,
    rotation,
    spread,
    verdict,
)
from fastapi_boundary import AsyncRepository
from fastapi_boundary._runtime import step_timing

RESULTS = RESULTS_DIR / "steps.txt"
BUDGET_US = 1.0


class Plain:
    async def at_once(self, x: int) -> int:
        return x

    async def suspending(self, x: int) -> int:
        await asyncio.sleep(0)
        return x


class Control:
    async def at_once(self, x: int) -> int:
        return x

    async def suspending(self, x: int) -> int:
        await asyncio.sleep(0)
        return x


class Declared(AsyncRepository):
    async def at_once(self, x: int) -> int:
        return x

    async def suspending(self, x: int) -> int:
        await asyncio.sleep(0)
        return x


@dataclass(frozen=True)
class Options:
    calls: int = 20_000
    blocks: int = 10
    repetitions: int = 15


Method = Callable[[int], Awaitable[int]]


async def per_call_us(method: Method, calls: int) -> float:
    start = perf_counter()
    for i in range(calls):
        await method(i)
    return (perf_counter() - start) / calls * 1e6


def _sink(rate: float) -> step_timing.Sink:
    return step_timing.Sink(threshold=10.0, report=lambda detection: None, sample_rate=rate)


async def measure(body: str, options: Options) -> dict[str, list[float]]:
    """µs per call of every side, one entry per repetition: its fastest block.

    Within a repetition the sides alternate block by block (in a rotating order), so a
    burst of load from elsewhere on the machine hits them alike; noise only ever adds
    time, so each repetition keeps every side's fastest block.
    """
    sides: dict[str, tuple[float | None, object]] = {
        "plain": (None, Plain()),
        "control: plain again": (None, Control()),
        "declared layer, timing off": (None, Declared()),
        "timed (every call)": (1.0, Declared()),
        "timed, sampled 1%": (0.01, Declared()),
    }
    found: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    per_block = max(options.calls // options.blocks, 100)
    for turn in range(options.repetitions):
        blocks: dict[str, list[float]] = {name: [] for name in sides}
        for block in range(options.blocks):
            for name in rotation(names, turn * options.blocks + block):
                rate, target = sides[name]
                if rate is not None:
                    step_timing.attach("bench", _sink(rate))
                try:
                    method: Method = getattr(target, body)
                    await per_call_us(method, per_block // 10)  # warm up
                    blocks[name].append(await per_call_us(method, per_block))
                finally:
                    step_timing.detach("bench")
        for name, values in blocks.items():
            found[name].append(min(values))
        progress_count(body, turn + 1, options.repetitions)
    return found


def section(body: str, title: str, found: dict[str, list[float]]) -> tuple[list[str], bool]:
    plain = found["plain"]
    lines = [
        title,
        f"   anchor plain await: {statistics.median(plain):.3f} µs/call (median), {spread(plain)}",
    ]
    passed = True
    for name, values in found.items():
        if name == "plain":
            continue
        added = [side - anchor for side, anchor in zip(values, plain, strict=True)]
        median = statistics.median(added)
        lines.append(f"   {name:<30} {median:+.3f} µs/call  ({spread(added)})")
        if name == "timed (every call)":
            ok = median <= BUDGET_US
            passed = passed and ok
            lines.append(f"   timed adds {median:.3f} µs <= {BUDGET_US:.1f} µs  {verdict(ok)}")
    return lines, passed


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argument_parser(__doc__, argparse.ArgumentDefaultsHelpFormatter)
    d = Options()
    parser.add_argument("--calls", type=int, default=d.calls, help="awaits per side and turn")
    parser.add_argument("--blocks", type=int, default=d.blocks, help="blocks per turn")
    parser.add_argument("--repetitions", type=int, default=d.repetitions, help="turns")
    ns = parser.parse_args(argv)
    if ns.calls < 1000 or ns.repetitions < 5 or ns.blocks < 1:
        parser.error("--calls >= 1000, --blocks >= 1 and --repetitions >= 5")
    return Options(calls=ns.calls, blocks=ns.blocks, repetitions=ns.repetitions)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    gc.collect()
    gc.freeze()
    head = header(
        "fastapi-boundary step timing benchmark",
        ("fastapi-boundary", "anyio"),
        summary=f"{SUMMARY} Event loop: asyncio. Figures are µs added per call.",
    )
    bodies = {
        "at_once": "1. A method that returns at once (one step per call)",
        "suspending": "2. A method that awaits asyncio.sleep(0) (two steps per call)",
    }
    sections = []
    passed = True
    for body, title in bodies.items():
        found = asyncio.run(measure(body, options))
        lines, ok = section(
            body,
            f"{title}; {options.calls:,} awaits per side and repetition in "
            f"{options.blocks} alternating blocks, the fastest block kept; "
            f"{options.repetitions} repetitions; budget: timed <= +{BUDGET_US:.1f} µs",
            found,
        )
        sections.append(lines)
        passed = passed and ok
    publish(report(head, sections, passed), RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
