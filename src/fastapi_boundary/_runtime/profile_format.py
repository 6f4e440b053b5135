"""The profile file the monitor writes and ``fastapi-boundary advise --profile`` reads.

Plain data and its JSON shape, versioned (``format``/``version``): a reader
refuses a file of another format or a newer version with a message that says
which one it knows.  Times are seconds summed over the sampled requests of a
route, so files of two runs can be added; a share is a sum over the route's
``wall``.  Version 2 adds the offload times (``offload_thread``,
``offload_process``); a version 1 file reads with them 0, its offloads in
``awaiting``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .._common.errors import BoundaryError

__all__ = ["FORMAT", "VERSION", "LimiterUse", "Profile", "RouteTimes", "read_profile"]

FORMAT = "fastapi-boundary-profile"
VERSION = 2


@dataclass
class RouteTimes:
    """What the sampled requests of one route spent their time on, in seconds (summed).

    ``wall``: from the route's handler starting to its response sent.
    ``loop``: synchronous steps on the event loop (FastAPI's own work, async
    endpoints and dependencies), ``loop_cpu`` the CPU time of those steps.
    ``thread``: a ``def`` endpoint running in a worker thread, ``thread_cpu`` its
    CPU time and ``thread_delay`` the time it was ready to run but waited for a
    CPU (Linux ``schedstat``; 0 elsewhere).  ``offload_thread``: awaiting a
    thread offload (``run_blocking``, ``to_async``, ``offload_dependency``), from
    entering it to its result, the wait for a token included; ``offload_process``:
    the same for a process offload (``run_cpu``, whichever backend runs it).
    ``awaiting``: the rest, suspended on the loop: awaiting I/O, or a ``def``
    dependency FastAPI runs in its threadpool.
    """

    requests: int = 0
    wall: float = 0.0
    loop: float = 0.0
    loop_cpu: float = 0.0
    thread: float = 0.0
    thread_cpu: float = 0.0
    thread_delay: float = 0.0
    offload_thread: float = 0.0
    offload_process: float = 0.0

    @property
    def awaiting(self) -> float:
        offloads = self.offload_thread + self.offload_process
        return max(self.wall - self.loop - self.thread - offloads, 0.0)

    def add(self, other: RouteTimes) -> None:
        """Add ``other``'s requests and times (once per sampled request: spelled out, no loop)."""
        self.requests += other.requests
        self.wall += other.wall
        self.loop += other.loop
        self.loop_cpu += other.loop_cpu
        self.thread += other.thread
        self.thread_cpu += other.thread_cpu
        self.thread_delay += other.thread_delay
        self.offload_thread += other.offload_thread
        self.offload_process += other.offload_process

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["awaiting"] = self.awaiting
        return {
            key: round(value, 6) if isinstance(value, float) else value
            for key, value in found.items()
        }


@dataclass
class LimiterUse:
    """A thread limiter's size and the most threads borrowed and tasks waiting seen."""

    total: int = 0
    peak_borrowed: int = 0
    peak_waiting: int = 0


@dataclass
class Profile:
    """One recording: per route template, and the threads the app held."""

    started: str = ""
    written: str = ""
    sample_rate: float = 1.0
    routes: dict[str, RouteTimes] = field(default_factory=dict)
    peak_sync_threads: int = 0
    limiters: dict[str, LimiterUse] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "started": self.started,
            "written": self.written,
            "sample_rate": self.sample_rate,
            "routes": {label: times.to_dict() for label, times in sorted(self.routes.items())},
            "threads": {
                "peak_sync": self.peak_sync_threads,
                "limiters": {name: asdict(use) for name, use in sorted(self.limiters.items())},
            },
        }

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the file whole, then rename it over the old one: a reader never sees half."""
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        partial.replace(target)


def _number(value: object, what: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BoundaryError(f"{path}: {what} must be a number; got {value!r}")
    return float(value)


def read_profile(path: str | Path) -> Profile:
    """Read a profile file; a `BoundaryError` says what is wrong with it and what to do."""
    shown = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise BoundaryError(
            f"cannot read the profile {shown}: {error}. Fix: pass the file the monitor wrote "
            f"(install(app, monitor=MonitorConfig(profile=...)))"
        ) from error
    except ValueError as error:
        raise BoundaryError(f"{shown} is not a profile: not JSON ({error})") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BoundaryError(
            f"{shown} is not a profile: its format is not {FORMAT!r}. Fix: pass the file "
            f"written by MonitorConfig(profile=...)"
        )
    version = data.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise BoundaryError(
            f"{shown} is a profile of version {version!r}; this fastapi-boundary reads up to "
            f"version {VERSION}. Fix: upgrade fastapi-boundary"
        )
    profile = Profile(
        started=str(data.get("started", "")),
        written=str(data.get("written", "")),
        sample_rate=_number(data.get("sample_rate", 1.0), "sample_rate", shown),
    )
    routes = data.get("routes") or {}
    if not isinstance(routes, dict):
        raise BoundaryError(f"{shown}: routes must be an object")
    known = {item.name for item in fields(RouteTimes)}
    for label, times in routes.items():
        if not isinstance(times, dict):
            raise BoundaryError(f"{shown}: route {label!r} must be an object")
        values = {key: value for key, value in times.items() if key in known}
        parsed = RouteTimes()
        for key, value in values.items():
            number = _number(value, f"{label} {key}", shown)
            setattr(parsed, key, int(number) if key == "requests" else number)
        profile.routes[str(label)] = parsed
    threads = data.get("threads") or {}
    if isinstance(threads, dict):
        profile.peak_sync_threads = int(_number(threads.get("peak_sync", 0), "peak_sync", shown))
        for name, use in (threads.get("limiters") or {}).items():
            if isinstance(use, dict):
                profile.limiters[str(name)] = LimiterUse(
                    *(
                        int(_number(use.get(k, 0), k, shown))
                        for k in ("total", "peak_borrowed", "peak_waiting")
                    )
                )
    return profile
