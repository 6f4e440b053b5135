"""The performance reality check: what a route's profile says about async paying off.

"Async helps when waiting dominates execution time; it does not when CPU
dominates, the DB driver is blocking, or the code is simple and fast."  From a
route's `RouteTimes` (the monitor's profile):

- *computing* is CPU time on the loop and in the route's thread, plus the time
  that thread was ready but waited for a CPU (on a loaded machine a CPU-bound
  route waits for a core, not for I/O), plus the time awaiting a process
  offload (work in a worker process);
- *waiting* is the time suspended on the loop (awaiting I/O), the time the
  route's thread was blocked (a blocking call) and the time awaiting a thread
  offload (``run_blocking``, ``to_async``: a blocking call in another thread);
- the verdict: ``fast`` (under `FAST` seconds a request: simple and fast),
  ``waiting`` when waiting outweighs computing (``in_thread`` when most of it
  was a blocked thread, ``in_offload`` when most of it was thread offloads:
  either way a blocking driver is in the path), else ``cpu`` (``in_process``
  when most of the computing was in worker processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .._runtime.profile_format import LimiterUse, Profile, RouteTimes

__all__ = ["FAST", "Measured", "ThreadAdvice", "measure", "thread_advice"]

#: Below this many seconds a request, a route is "simple and fast" whatever it does.
FAST = 0.002

Verdict = Literal["fast", "waiting", "cpu"]


@dataclass(frozen=True)
class Measured:
    """A route's measured shares and the verdict drawn from them."""

    requests: int
    mean: float
    loop: float
    awaiting: float
    thread: float
    computing: float
    waiting: float
    verdict: Verdict
    in_thread: bool
    offload_thread: float = 0.0
    offload_process: float = 0.0
    in_offload: bool = False
    in_process: bool = False

    def verdict_text(self) -> str:
        shares = (
            f"{self.computing:.0%} computing, {self.waiting:.0%} waiting over {self.requests} "
            f"sampled request(s) of {self.mean * 1000:.1f} ms"
        )
        if self.verdict == "fast":
            return f"simple and fast ({shares}): sync is as fast and simpler"
        if self.verdict == "cpu" and self.in_process:
            return (
                f"CPU dominates, {self.offload_process:.0%} of the time in worker processes "
                f"({shares}): keep the process offload"
            )
        if self.verdict == "cpu":
            return f"CPU dominates ({shares}): sync is as fast and simpler"
        if self.in_offload:
            return (
                f"a blocking driver is in the path, {self.offload_thread:.0%} of the time in "
                f"thread offloads ({shares}): sync is as fast and simpler"
            )
        if self.in_thread:
            return f"waiting dominates, in a blocked worker thread ({shares})"
        return f"waiting dominates ({shares}): async pays"

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "mean_ms": round(self.mean * 1000, 3),
            "shares": {
                "loop": round(self.loop, 4),
                "awaiting": round(self.awaiting, 4),
                "thread": round(self.thread, 4),
                "offload_thread": round(self.offload_thread, 4),
                "offload_process": round(self.offload_process, 4),
                "computing": round(self.computing, 4),
                "waiting": round(self.waiting, 4),
            },
            "verdict": self.verdict,
            "blocked_thread": self.in_thread,
            "thread_offloads": self.in_offload,
            "process_offloads": self.in_process,
            "text": self.verdict_text(),
        }


def measure(times: RouteTimes) -> Measured | None:
    """The verdict for one route; ``None`` when no request of it was sampled."""
    if times.requests <= 0 or times.wall <= 0:
        return None
    wall = times.wall
    on_cpu = times.loop_cpu + times.thread_cpu + times.thread_delay
    computing = on_cpu + times.offload_process
    blocked = max(times.thread - times.thread_cpu - times.thread_delay, 0.0)
    waiting = times.awaiting + blocked + times.offload_thread
    mean = wall / times.requests
    verdict: Verdict
    if mean < FAST:
        verdict = "fast"
    elif waiting > computing:
        verdict = "waiting"
    else:
        verdict = "cpu"
    total = max(computing + waiting, 1e-12)
    return Measured(
        requests=times.requests,
        mean=mean,
        loop=min(times.loop / wall, 1.0),
        awaiting=min(times.awaiting / wall, 1.0),
        thread=min(times.thread / wall, 1.0),
        computing=computing / total,
        waiting=waiting / total,
        verdict=verdict,
        in_thread=blocked > times.awaiting + times.offload_thread,
        offload_thread=min(times.offload_thread / wall, 1.0),
        offload_process=min(times.offload_process / wall, 1.0),
        in_offload=times.offload_thread > times.awaiting + blocked,
        in_process=times.offload_process > on_cpu,
    )


@dataclass(frozen=True)
class ThreadAdvice:
    """The threadpool reality: threads held at peak against the pool and the database pool."""

    peak: int
    pool: int | None
    database: int | None
    size: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_sync_threads": self.peak,
            "pool": self.pool,
            "database_pool": self.database,
            "limiter_size": self.size,
            "text": self.text,
        }


def thread_advice(profile: Profile, database: int | None) -> ThreadAdvice:
    """How many threads the sync routes held at peak, and the limiter size to use."""
    default = profile.limiters.get("default", LimiterUse())
    pool = default.total or None
    peak = max(profile.peak_sync_threads, default.peak_borrowed)
    held = f"the sync routes held at most {peak} thread(s) at once"
    of_pool = f" of the threadpool's {pool}" if pool else ""
    if database is not None:
        size = database
        text = (
            f"{held}{of_pool}; the database pool has {database} connection(s), so a thread "
            f"beyond {database} only waits for a connection: size the limiter to {database} "
            f'(Limiter("db", pool=engine), or install(app, threads={database}))'
        )
    elif pool and default.peak_waiting:
        size = pool * 2
        text = (
            f"{held}{of_pool}, and {default.peak_waiting} task(s) waited for one: raise it "
            f"(install(app, threads={size})) or shed load; sync endpoints scale reasonably "
            f"well while threads are free"
        )
    else:
        size = None
        text = f"{held}{of_pool}: the pool is ample; sync endpoints scale reasonably well"
    return ThreadAdvice(peak, pool, database, size, text)
