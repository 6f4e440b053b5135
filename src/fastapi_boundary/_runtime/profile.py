"""The monitor's profile: per route template, where a sampled request's time went.

For a fraction of requests (``profile_sample_rate``) the route's ASGI app is
driven step by step (as step timing drives a coroutine): each synchronous step
on the loop is timed with ``perf_counter`` and ``thread_time``, the time
between steps is time the request was suspended.  A ``def`` endpoint is timed
inside its worker thread the same way, with the time it was ready but waited
for a CPU read from Linux's ``schedstat``.  An offload a sampled request awaits
(``run_blocking``, ``to_async``, ``offload_dependency``) is timed
from entering it to its result, through the observer ``_common.hooks`` reads
for sampled requests only (an unsampled request's offload reads ``None``).
Every ``def`` endpoint call, sampled or not, counts the threads held at once
(one lock per call).  A request that is not sampled pays one function call and
one random draw (and one context variable read per offload): the route's own
coroutine is handed back, so no frame of the profiler stays on its stack.  What
is recorded is the route's method and path template and durations: never a path
value, a query, a header or a body.
"""

from __future__ import annotations

import datetime
import functools
import os
import random
import threading
import types
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar
from time import perf_counter, thread_time
from typing import Any

from .._audit.routes import served_routes
from .._common import hooks
from .._common.modes import Shape, shape_of
from .._offload.threads import LimiterStatistics
from .profile_format import LimiterUse, Profile, RouteTimes
from .request_scope import route_label

__all__ = ["Profiler"]

_current: ContextVar[RouteTimes | None] = ContextVar("fastapi_boundary_profile", default=None)
_SCHEDSTAT = "/proc/thread-self/schedstat"


def _run_delay() -> float:
    """Seconds this thread has been ready to run but waited for a CPU (Linux), else 0."""
    try:
        fd = os.open(_SCHEDSTAT, os.O_RDONLY)
    except OSError:
        return 0.0
    try:
        fields = os.read(fd, 128).split()
    finally:
        os.close(fd)
    return int(fields[1]) / 1e9 if len(fields) > 1 else 0.0


@types.coroutine
def _drive(coro: Coroutine[Any, Any, Any], times: RouteTimes) -> Generator[Any, Any, Any]:
    """Run ``coro`` to completion, adding each synchronous step to ``times.loop``."""
    send = coro.send
    step: Callable[[Any], Any] = send
    value: Any = None
    while True:
        start, cpu = perf_counter(), thread_time()
        try:
            yielded = step(value)
        except StopIteration as stop:
            times.loop += perf_counter() - start
            times.loop_cpu += thread_time() - cpu
            return stop.value
        except BaseException:
            times.loop += perf_counter() - start
            times.loop_cpu += thread_time() - cpu
            raise
        times.loop += perf_counter() - start
        times.loop_cpu += thread_time() - cpu
        try:
            value = yield yielded
            step = send
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as raised:  # cancellation and errors go into the coroutine
            value, step = raised, coro.throw


class Profiler:
    """Records the profile of one app while the monitor runs; `stop` puts every original back."""

    def __init__(self, sample_rate: float, draw: Callable[[], float] = random.random) -> None:
        self.sample_rate = sample_rate
        self.draw = draw
        self.routes: dict[str, RouteTimes] = {}
        self.limiters: dict[str, LimiterUse] = {}
        self.started = ""
        self._lock = threading.Lock()
        self._running = 0
        self._peak = 0
        self._patched: list[tuple[Any, str, Any, Any]] = []
        self._labels: dict[tuple[object, ...], str] = {}

    # switching on and off

    def start(self, app: Any) -> None:
        self.started = _now()
        for route in _routes(app):
            original = route.app
            wrapper = self._profiled(route, original)
            route.app = wrapper
            self._patched.append((route, "app", original, wrapper))
            dependant = route.dependant
            call = dependant.call
            if call is not None and shape_of(call).shape is Shape.FUNCTION:
                timed = self._in_thread(call)
                dependant.call = timed
                self._patched.append((dependant, "call", call, timed))

    def stop(self) -> None:
        """Put the originals back, unless something else replaced them since (it restores)."""
        while self._patched:
            holder, name, original, wrapper = self._patched.pop()
            if getattr(holder, name, None) is wrapper:
                setattr(holder, name, original)

    # the wrappers

    def _profiled(self, route: Any, original: Any) -> Any:
        """The route's ASGI app: a request not sampled gets the original's coroutine itself."""
        rate, draw, record = self.sample_rate, self.draw, self._record

        async def sampled(scope: Any, receive: Any, send: Any) -> None:
            times = RouteTimes(requests=1)
            token = _current.set(times)
            observing = hooks.offload_observer.set(functools.partial(_offloaded, times))
            start = perf_counter()
            try:
                await _drive(original(scope, receive, send), times)
            finally:
                hooks.offload_observer.reset(observing)
                _current.reset(token)
                times.wall = perf_counter() - start
                record(scope, route, times)

        def profiled(scope: Any, receive: Any, send: Any) -> Any:
            if draw() >= rate or scope.get("type") != "http":
                return original(scope, receive, send)  # no frame of ours while it runs
            return sampled(scope, receive, send)

        return profiled

    def _in_thread(self, call: Callable[..., Any]) -> Callable[..., Any]:
        lock = self._lock

        @functools.wraps(call)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with lock:
                self._running += 1
                if self._running > self._peak:
                    self._peak = self._running
            times = _current.get()
            try:
                if times is None:
                    return call(*args, **kwargs)
                start, cpu, delay = perf_counter(), thread_time(), _run_delay()
                try:
                    return call(*args, **kwargs)
                finally:
                    times.thread += perf_counter() - start
                    times.thread_cpu += thread_time() - cpu
                    times.thread_delay += max(_run_delay() - delay, 0.0)
            finally:
                with lock:
                    self._running -= 1

        return timed

    def _record(self, scope: Any, route: Any, times: RouteTimes) -> None:
        key = (id(route), scope.get("method"), scope.get("root_path"), scope.get("app_root_path"))
        label = self._labels.get(key)
        if label is None:  # once per route, method and mount: the scope copy is not free
            label = self._labels[key] = route_label({**scope, "route": route}) or "?"
        with self._lock:
            known = self.routes.get(label)
            if known is None:
                self.routes[label] = times
            else:
                known.add(times)

    # what the sentinel reads each tick

    def limiters_seen(self, statistics: list[LimiterStatistics]) -> None:
        for stats in statistics:
            use = self.limiters.setdefault(stats.name, LimiterUse())
            use.total = stats.total
            use.peak_borrowed = max(use.peak_borrowed, stats.borrowed)
            use.peak_waiting = max(use.peak_waiting, stats.waiting)

    def snapshot(self) -> Profile:
        with self._lock:
            routes = {label: _copy(times) for label, times in self.routes.items()}
            peak = self._peak
        limiters = {
            name: LimiterUse(u.total, u.peak_borrowed, u.peak_waiting)
            for name, u in self.limiters.items()
        }
        return Profile(self.started, _now(), self.sample_rate, routes, peak, limiters)


def _offloaded(times: RouteTimes, kind: str, seconds: float) -> None:
    """A sampled request awaited an offload for ``seconds``: its route's offload share."""
    if times.wall:  # the request has ended: a task it left behind is not its time
        return
    if kind == "process":
        times.offload_process += seconds
    else:
        times.offload_thread += seconds


def _copy(times: RouteTimes) -> RouteTimes:
    copied = RouteTimes()
    copied.add(times)
    return copied


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _routes(app: Any) -> list[Any]:
    """What serves each HTTP route of the app (mounted apps' too): its ``app`` is wrapped."""
    return [
        target for target in served_routes(getattr(app, "routes", ())) if hasattr(target, "app")
    ]
