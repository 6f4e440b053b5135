"""The production monitor: loop stalls, slow steps and offload queueing, as logs and metrics.

Three cheap probes, started and stopped with the app's lifespan:

- a loop-lag sentinel: a task sleeps ``lag_interval`` and measures how late
  it wakes; a watchdog thread samples the loop thread's stack while the
  loop is overdue, so a stall is reported with the route being served and
  the line that held the loop (fastapi-loopguard cannot name the handler);
- sampled step timing (`step_timing`): a fraction of layer calls (and async
  endpoints and dependencies) have each synchronous step timed;
- offload queueing: every limiter's borrowed, waiting and total threads,
  read at each sentinel tick.

It reports through the ``fastapi_boundary.monitor`` logger (``extra=``
fields prefixed ``boundary_``), a metrics callback and, when
``opentelemetry`` is importable, OpenTelemetry instruments.  It never
raises into a request unless ``raise_errors=True``; a failing callback is
logged, never propagated.  Routes are named by method and path template:
no query string, header or body is ever read.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from time import perf_counter
from types import FrameType
from typing import Any

import anyio

from .._common.errors import BlockingCallError, BoundaryError
from .._common.sites import Site, display_name, site_of
from .._offload.threads import limiter_statistics
from . import step_timing
from .attribution import is_foreign, site_of_frame
from .detection import Detection, format_message
from .profile import Profiler
from .request_scope import route_on_stack
from .stack_samples import Watchdog

__all__ = ["Metric", "Monitor", "MonitorConfig"]

logger = logging.getLogger("fastapi_boundary.monitor")


@dataclass(frozen=True)
class Metric:
    """One measurement handed to the metrics callback (and to OpenTelemetry).

    ``name`` is one of ``boundary.loop.lag`` (seconds, every sentinel tick),
    ``boundary.loop.stall`` (seconds, a tick at least ``lag_threshold`` late),
    ``boundary.step.blocking`` (seconds, a slow step), ``boundary.call.blocking``
    (1, a sync layer method called on the loop), ``boundary.offload.borrowed``,
    ``boundary.offload.waiting`` and ``boundary.offload.total`` (threads or
    tasks, per limiter, every tick).  ``attributes`` holds ``route``,
    ``layer``, ``site`` or ``limiter`` where they apply.
    """

    name: str
    value: float
    unit: str
    attributes: Mapping[str, str] = field(default_factory=dict)


MetricsCallback = Callable[[Metric], None]


# the accepted range of each duration field, in seconds: (0, upper]
_SECONDS_UPPER = {
    "step_threshold": 60.0,
    "lag_interval": 60.0,
    "lag_threshold": 60.0,
    "log_every": 86_400.0,
    "profile_every": 86_400.0,
}
_SECONDS_EXAMPLE = {
    "step_threshold": "0.1 (100 ms)",
    "lag_interval": "0.5 (twice a second)",
    "lag_threshold": "0.1 (100 ms)",
    "log_every": "60 (one record a minute)",
    "profile_every": "60 (the profile file rewritten once a minute)",
}


def _seconds(value: object, what: str) -> float:
    """A duration field: a finite number of seconds in (0, upper].

    ``inf`` would turn a probe off without a word (a sentinel that never wakes),
    ``nan`` compares false with everything: both are refused with the range.
    """
    upper = _SECONDS_UPPER[what]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= upper
    ):
        raise BoundaryError(
            f"MonitorConfig({what}=...) must be a finite number of seconds in (0, {upper:g}]; "
            f"got {value!r}. Fix: pass e.g. {_SECONDS_EXAMPLE[what]}."
        )
    return float(value)


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor watches and how it reports; checked when created.

    ``sample_rate`` is the fraction of layer calls whose steps are timed;
    ``step_threshold`` the step length reported; ``lag_interval`` how often
    the sentinel wakes and ``lag_threshold`` the lateness reported as a
    stall.  ``endpoints`` also times the app's async endpoints and
    dependencies.  ``metrics`` receives every `Metric`; ``opentelemetry``
    records them as OpenTelemetry instruments when the package is
    importable (``meter`` overrides the meter used).  ``log_every`` is the
    least number of seconds between two log records about the same thing.
    ``raise_errors`` makes a slow step or a sync layer call on the loop
    raise `BlockingCallError` in the request (for staging, never the default).
    ``profile`` names a file the monitor writes its profile to (per route: time
    on the loop, awaiting, in a worker thread; see ``profile_format``) every
    ``profile_every`` seconds and when the app stops; ``profile_sample_rate``
    is the fraction of requests profiled.
    """

    sample_rate: float = 0.01
    step_threshold: float = 0.1
    lag_interval: float = 0.5
    lag_threshold: float = 0.1
    endpoints: bool = True
    metrics: MetricsCallback | None = None
    opentelemetry: bool = True
    meter: Any = None
    log_every: float = 60.0
    raise_errors: bool = False
    profile: str | os.PathLike[str] | None = None
    profile_sample_rate: float = 0.01
    profile_every: float = 60.0

    def __post_init__(self) -> None:
        step_timing.check_rate(self.sample_rate, "MonitorConfig(sample_rate=...)")
        step_timing.check_rate(self.profile_sample_rate, "MonitorConfig(profile_sample_rate=...)")
        for name in ("step_threshold", "lag_interval", "lag_threshold", "log_every"):
            _seconds(getattr(self, name), name)
        _seconds(self.profile_every, "profile_every")
        if self.profile is not None and not isinstance(self.profile, (str, os.PathLike)):
            raise BoundaryError(
                f"MonitorConfig(profile=...) takes the path of the file to write; got "
                f'{self.profile!r}. Fix: pass e.g. profile="boundary-profile.json".'
            )
        if self.metrics is not None and not callable(self.metrics):
            raise BoundaryError(
                f"MonitorConfig(metrics=...) takes a callable receiving a Metric; got "
                f"{self.metrics!r}. Fix: pass a function, e.g. metrics=my_registry.record."
            )
        for name in ("endpoints", "opentelemetry", "raise_errors"):
            if not isinstance(getattr(self, name), bool):
                raise BoundaryError(
                    f"MonitorConfig({name}=...) takes True or False; got {getattr(self, name)!r}"
                )

    @classmethod
    def coerce(cls, value: object) -> MonitorConfig | None:
        """What ``install(monitor=...)`` accepts: a config, ``True`` (defaults), or off."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            try:
                return cls(**value)
            except TypeError as error:
                raise BoundaryError(
                    f"install(monitor={{...}}): {error}. Fix: use the fields of MonitorConfig."
                ) from error
        raise BoundaryError(
            f"install(monitor=...) takes a MonitorConfig, a mapping of its fields, True or "
            f"None; got {value!r}. Fix: install(app, monitor=MonitorConfig(sample_rate=0.01))."
        )


# --- what a stalled loop thread was doing --------------------------------------------------


@dataclass(frozen=True)
class _StallSample:
    taken: float
    route: str | None
    site: Site | None
    function: str | None = None  # the innermost frame of the user's code
    endpoint: str | None = None  # the route's endpoint, with its site


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame of the user's code: never this package, the stdlib or a library."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((_PACKAGE_DIR, "<")) and not is_foreign(filename):
            return frame
        frame = frame.f_back
    return None


def _endpoint_on_stack(frame: FrameType | None) -> str | None:
    """The endpoint of the request on the stack (Starlette puts it in the scope): name and site."""
    while frame is not None:
        if "scope" in frame.f_code.co_varnames:
            try:
                scope = frame.f_locals.get("scope")
            except Exception:  # a frame finishing under the sampling thread
                scope = None
            endpoint = scope.get("endpoint") if isinstance(scope, dict) else None
            if endpoint is not None:
                return f"{display_name(endpoint)}, {site_of(endpoint)}"
        frame = frame.f_back
    return None


def _sample_loop(ident: int, taken: float) -> _StallSample:
    frame: FrameType | None = sys._current_frames().get(ident)
    route = route_on_stack(frame)  # the request's scope, from Starlette's frames
    user = _user_frame(frame)
    function = user.f_code.co_name if user is not None else None
    endpoint = _endpoint_on_stack(frame) if route is not None else None
    return _StallSample(taken, route, site_of_frame(user), function, endpoint)


# --- reporting: logs (rate-limited), the callback, OpenTelemetry --------------------------


class _Otel:
    """OpenTelemetry instruments for the `Metric` names (created on first use)."""

    def __init__(self, meter: Any) -> None:
        self.meter = meter
        self.instruments: dict[str, Callable[[float, Mapping[str, str]], None]] = {}

    def record(self, metric: Metric) -> None:
        record = self.instruments.get(metric.name)
        if record is None:
            record = self.instruments[metric.name] = self._instrument(metric)
        record(metric.value, metric.attributes)

    def _instrument(self, metric: Metric) -> Callable[[float, Mapping[str, str]], None]:
        if metric.name == "boundary.call.blocking":
            return self.meter.create_counter(metric.name, unit="1").add  # type: ignore[no-any-return]
        if metric.name.startswith("boundary.offload.") and hasattr(self.meter, "create_gauge"):
            return self.meter.create_gauge(metric.name, unit=metric.unit).set  # type: ignore[no-any-return]
        return self.meter.create_histogram(metric.name, unit=metric.unit).record  # type: ignore[no-any-return]


def _default_meter() -> Any:
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    return metrics.get_meter("fastapi_boundary")


class Monitor:
    """The monitor of one app: started by its middleware when the app's lifespan starts."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.otel: _Otel | None = None
        self._logged: dict[tuple[str, ...], float] = {}
        self._broken: set[str] = set()
        self._sink_name = f"monitor:{id(self)}"
        self._beat = 0.0
        self._loop_thread = 0
        self._stall: _StallSample | None = None
        self._watchdog: Watchdog | None = None
        self.profiler: Profiler | None = None
        self.running = False

    # lifecycle

    def start(self, app: Any) -> None:
        """Switch on step timing (and the app's endpoints) and the stall watchdog."""
        config = self.config
        meter = config.meter
        if meter is None and config.opentelemetry:
            meter = _default_meter()
        self.otel = None if meter is None else _Otel(meter)
        sink = step_timing.Sink(config.step_threshold, self._on_detection, config.sample_rate)
        step_timing.attach(self._sink_name, sink)
        if config.endpoints and app is not None:
            step_timing.instrument_app(app)
        if config.profile is not None and app is not None:  # outermost: after step timing
            self.profiler = Profiler(config.profile_sample_rate)
            self.profiler.start(app)
        self._loop_thread = threading.get_ident()
        self._beat = perf_counter()
        tick = min(max(config.lag_threshold / 2, 0.005), 0.25)
        self._watchdog = Watchdog("fastapi-boundary loop watchdog", tick, self._watch)
        self._watchdog.start()
        self.running = True

    def stop(self) -> None:
        self.running = False
        if self.profiler is not None:
            self.profiler.stop()  # first: its wrappers sit on top of step timing's
        step_timing.detach(self._sink_name)
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None

    @contextlib.asynccontextmanager
    async def lifetime(self, app: Any) -> AsyncIterator[None]:
        """The monitor on for the body (an app's lifespan), the sentinel a task beside it."""
        if self.running:  # a second lifespan of the same app: one monitor
            yield
            return
        self.start(app)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self.sentinel)
                if self.profiler is not None:
                    tasks.start_soon(self._profile_writer)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
            if self.profiler is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.write_profile)
        finally:
            self.stop()

    async def _profile_writer(self) -> None:
        """Rewrite the profile file every ``profile_every`` seconds, from a worker thread."""
        while True:
            await anyio.sleep(self.config.profile_every)
            await anyio.to_thread.run_sync(self.write_profile)

    def write_profile(self) -> None:
        """Write what the profiler recorded so far (never raises: a failure is logged once)."""
        if self.profiler is None or self.config.profile is None:
            return
        try:
            self.profiler.snapshot().write(self.config.profile)
        except Exception:
            self._failed("profile writer")

    async def sentinel(self) -> None:
        """The loop-lag sentinel: sleep, measure lateness, read the limiters; until cancelled."""
        interval = self.config.lag_interval
        while True:
            self._beat = start = perf_counter()
            await anyio.sleep(interval)
            lag = max(perf_counter() - start - interval, 0.0)
            try:
                self._lagged(lag, start)
                self._queues()
            except Exception:  # never take the app's lifespan down with it
                self._failed("sentinel")

    # the watchdog thread

    def _watch(self) -> None:
        try:
            self._watch_once()
        except Exception:
            self._failed("stall watchdog")

    def _watch_once(self) -> None:
        beat = self._beat
        now = perf_counter()
        overdue = now - beat - self.config.lag_interval
        if overdue < self.config.lag_threshold / 2:
            return
        stall = self._stall
        if stall is not None and stall.taken > beat:
            return  # this stall is sampled already
        self._stall = _sample_loop(self._loop_thread, now)

    # what the probes found

    def _lagged(self, lag: float, start: float) -> None:
        self.emit(Metric("boundary.loop.lag", lag, "s"))
        if lag < self.config.lag_threshold:
            return
        stall = self._stall
        if stall is None or stall.taken < start:
            stall = _StallSample(0.0, None, None)
        attributes: dict[str, str] = {}
        if stall.route is not None:
            attributes["route"] = stall.route
        if stall.site is not None:
            attributes["site"] = str(stall.site)
        self.emit(Metric("boundary.loop.stall", lag, "s", attributes))
        where = "".join(
            [
                f" while serving {stall.route}" if stall.route else "",
                f" (endpoint {stall.endpoint})" if stall.endpoint else "",
                f" at {stall.site}" if stall.site else "",
                f" in {stall.function}" if stall.function else "",
            ]
        )
        self.log(
            ("stall", stall.route or "", str(stall.site)),
            f"event loop stalled for {lag * 1000:.1f} ms{where}: every request on this loop "
            f"waited meanwhile. Fix: offload the blocking work (run_blocking, run_cpu) or make "
            f"the endpoint a def",
            event="stall",
            lag_ms=round(lag * 1000, 3),
            route=stall.route,
            site=None if stall.site is None else str(stall.site),
            function=stall.function,
            endpoint=stall.endpoint,
        )

    def _queues(self) -> None:
        try:
            statistics = limiter_statistics()
        except RuntimeError:  # no anyio backend here: nothing to read
            return
        if self.profiler is not None:
            self.profiler.limiters_seen(statistics)
        for stats in statistics:
            attributes = {"limiter": stats.name}
            self.emit(Metric("boundary.offload.borrowed", stats.borrowed, "1", attributes))
            self.emit(Metric("boundary.offload.waiting", stats.waiting, "1", attributes))
            self.emit(Metric("boundary.offload.total", stats.total, "1", attributes))
            if stats.waiting:
                self.log(
                    ("queue", stats.name),
                    f"offload queue: {stats.waiting} task(s) waiting for a thread of limiter "
                    f"{stats.name!r} ({stats.borrowed}/{stats.total} in use). Fix: size the "
                    f"limiter from the resource it guards (install(limiters=...)) or shed load",
                    event="queue",
                    limiter=stats.name,
                    waiting=stats.waiting,
                    borrowed=stats.borrowed,
                    total=stats.total,
                )

    def _on_detection(self, detection: Detection) -> None:
        """The step-timing sink: log and count; raise only when configured to."""
        attributes = {
            key: value
            for key, value in (
                ("route", detection.route),
                ("layer", detection.layer),
                ("site", None if detection.site is None else str(detection.site)),
            )
            if value is not None
        }
        if detection.kind == "step":
            duration = detection.duration or 0.0
            self.emit(Metric("boundary.step.blocking", duration, "s", attributes))
        else:
            self.emit(Metric("boundary.call.blocking", 1, "1", attributes))
        message = format_message(detection)
        self.log(
            (detection.kind, detection.blocking, str(detection.site)),
            message,
            event=detection.kind,
            route=detection.route,
            layer=detection.layer,
            layer_mode=None if detection.layer_mode is None else detection.layer_mode.value,
            site=None if detection.site is None else str(detection.site),
            blocking=detection.blocking,
            duration_ms=None if detection.duration is None else round(detection.duration * 1e3, 3),
        )
        if self.config.raise_errors:
            raise BlockingCallError(message, detection=detection)

    # outputs, each protected: the monitor never breaks a request

    def emit(self, metric: Metric) -> None:
        callback = self.config.metrics
        if callback is not None:
            try:
                callback(metric)
            except Exception:
                self._failed("metrics callback")
        if self.otel is not None:
            try:
                self.otel.record(metric)
            except Exception:
                self._failed("OpenTelemetry")

    def log(self, key: tuple[str, ...], message: str, **fields: object) -> None:
        now = perf_counter()
        last = self._logged.get(key)
        if last is not None and now - last < self.config.log_every:
            return
        self._logged[key] = now
        extra = {f"boundary_{name}": value for name, value in fields.items()}
        try:
            logger.warning("%s", message, extra=extra)
        except Exception:
            self._failed("logging")

    def _failed(self, what: str) -> None:
        if what not in self._broken:  # once: a broken exporter must not flood the log
            self._broken.add(what)
            logger.exception("fastapi-boundary monitor: the %s failed; carrying on", what)
