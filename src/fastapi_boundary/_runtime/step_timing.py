"""Per-layer step timing: catch fake async that no interception can see.

A coroutine runs on the event loop in synchronous *steps*, from one
suspension to the next.  While step timing is on, every async layer method
(and, per app, async endpoints and dependencies) is driven by `_drive`,
which times each step with ``perf_counter``: a step longer than the
threshold is blocking work on the loop, whatever did it (CPU work, a C
extension, a driver nobody catalogued).  It is attributed to the innermost
timed method; its line comes from a stack sample a watchdog thread takes
while the step is still running.  Sync layer methods called on a loop thread
are reported as blocking calls.

Off, nothing is wrapped: a layer method is the function the user wrote.
Turned off again, every original is put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import inspect
import random
import sys
import types
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Iterable, Iterator
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from .._audit import registry
from .._audit.routes import served_routes
from .._common import fixes, hooks
from .._common.declarations import LAYER_ATTR, TIMED_ATTR, LayerInfo
from .._common.errors import BoundaryError
from .._common.fastapi_compat import fastapi_awaits
from .._common.modes import Mode, Shape, shape_of
from .._common.sites import Site, display_name, site_of
from .._common.trio_compat import in_trio_run
from .attribution import loop_function, site_of_frame
from .detection import Detection
from .loop_threads import is_loop_thread, registered_threads
from .request_scope import route_here
from .stack_samples import Sample, Watchdog, sample_thread, threads_running
from .wrappers import coroutine_wrapper

__all__ = [
    "Sink",
    "activate",
    "active",
    "attach",
    "check_rate",
    "check_threshold",
    "claim",
    "consumers",
    "deactivate",
    "detach",
    "instrument_app",
    "instrument_class",
    "reset",
    "sample_draw",
    "timed_apps",
]

Report = Callable[[Detection], None]
_CO_COROUTINE = inspect.CO_COROUTINE
_CO_ASYNC_GENERATOR = inspect.CO_ASYNC_GENERATOR
_STEP_FIX = fixes.slow_step_fix()


@dataclass(frozen=True)
class Sink:
    """One consumer of step timing: the guard, the monitor.

    Steps at least ``threshold`` seconds long are reported to it;
    ``sample_rate`` is the fraction of calls it wants timed.
    """

    threshold: float
    report: Report
    sample_rate: float = 1.0


def check_threshold(value: object, what: str) -> float:
    """A threshold in seconds, > 0 (a bool or a string is a mistake, not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise BoundaryError(
            f"{what} must be a number of seconds > 0; got {value!r}. "
            "Fix: pass e.g. 0.01 (10 ms) for tests, 0.1 (100 ms) in production."
        )
    return float(value)


def check_rate(value: object, what: str) -> float:
    """A sample rate: a fraction of calls in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise BoundaryError(
            f"{what} must be a fraction of calls in (0, 1]; got {value!r}. "
            "Fix: pass e.g. 0.01 to time one call in a hundred, 1.0 to time every call."
        )
    return float(value)


# --- state: read by the driver on every step, so plain module globals ----------------------

active = False
_sinks: dict[str, Sink] = {}
_threshold = float("inf")  # the smallest threshold of the sinks
_rate = 1.0  # the largest sample rate of the sinks
# (when, seconds) of blocking reported already, by inner steps and calls: an enclosing step
# subtracts what was reported during it, so nested layers report once.  Read only when a
# step was slow, so the fast path has no bookkeeping at all.
_claims: deque[tuple[float, float]] = deque(maxlen=64)
# When a loop thread imported a module (the guard's audit hook): a slow step that imported is
# a first call's warm-up, the same in every run, not fake async.
_imports: deque[float] = deque(maxlen=16)
# The watchdog's stack samples of threads caught inside a timed step, newest last.
_samples: deque[Sample] = deque(maxlen=16)
_watchdog: Watchdog | None = None
#: The draw compared with the sample rate when a call is made (a test replaces it to choose
#: which calls are timed); read when a method is wrapped, so the call pays no lookup.
sample_draw = random.random


@dataclass(frozen=True)
class _Spec:
    """What a timed callable is, for its reports."""

    function: Callable[..., Any]
    code: types.CodeType | None
    name: str
    layer: str | None
    mode: Mode | None


def _line_sampled(code: types.CodeType | None, start: float, end: float) -> Site | None:
    """The line of ``code`` in the newest watchdog sample taken between ``start`` and ``end``."""
    if code is None:
        return None
    for sample in reversed(_samples):
        if start <= sample.taken <= end:
            site = sample.line_of(code)
            if site is not None:
                return site
    return None


def _slow_step(spec: _Spec, coro: Any, start: float) -> None:
    """A step took longer than the smallest threshold: subtract what inner layers reported."""
    end = perf_counter()
    duration = end - start - sum(seconds for when, seconds in list(_claims) if when >= start)
    if duration <= _threshold:
        return
    if any(start <= when <= end for when in list(_imports)):
        return  # a first call's imports (warm-up): they happen once, never per request
    _claims.append((end, duration))
    site = _line_sampled(spec.code, start, end)
    if site is None:
        frame = getattr(coro, "cr_frame", None)
        site = site_of_frame(frame) if frame is not None else site_of(spec.function)
    detection = Detection(
        kind="step",
        blocking=spec.name,
        category="step",
        site=site,
        route=route_here(),
        layer=spec.layer,
        layer_mode=spec.mode,
        duration=duration,
        fix=_STEP_FIX,
        function=_qualified(spec.function),
        function_site=site_of(spec.function),
    )
    _dispatch(detection, duration)


def _dispatch(detection: Detection, duration: float) -> None:
    """Hand ``detection`` to every sink whose threshold it reaches; the first error wins."""
    error: BaseException | None = None
    for sink in list(_sinks.values()):
        if duration >= sink.threshold:
            try:
                sink.report(detection)
            except BaseException as raised:  # re-raised below, after every sink
                error = error or raised
    if error is not None:
        raise error


@types.coroutine
def _drive(coro: Coroutine[Any, Any, Any], spec: _Spec) -> Generator[Any, Any, Any]:
    """Run ``coro`` to completion, timing each synchronous step.

    The fast path of a step is two ``perf_counter`` calls and a comparison;
    ``step`` is ``coro.send`` or, to pass an exception in, ``coro.throw``.
    """
    send = coro.send
    step: Callable[[Any], Any] = send
    value: Any = None
    while True:
        start = perf_counter()
        try:
            yielded = step(value)
        except StopIteration as stop:
            if perf_counter() - start > _threshold:
                _slow_step(spec, coro, start)
            return stop.value
        except BaseException:
            if perf_counter() - start > _threshold:
                with contextlib.suppress(Exception):  # the coroutine's own error wins
                    _slow_step(spec, coro, start)
            raise
        if perf_counter() - start > _threshold:
            try:
                _slow_step(spec, coro, start)
            except BaseException as raised:  # strict: raised where the coroutine waits
                value, step = raised, coro.throw
                continue
        try:
            value = yield yielded
            step = send
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as raised:  # cancellation and errors go into the coroutine
            value, step = raised, coro.throw


_DRIVE_CODE = _drive.__code__


def _timed(spec: _Spec) -> Callable[..., Any]:
    """The async wrapper: an ``async def`` that awaits the method's coroutine, driven."""
    function = spec.function
    timed = coroutine_wrapper(function, spec, _drive, sample_draw, _rate)
    functools.update_wrapper(timed, function)
    setattr(timed, TIMED_ATTR, True)
    return timed


class _TimedAsyncGenerator:
    """An async generator whose every ``__anext__``/``asend``/``athrow``/``aclose`` is driven.

    Each of those awaitables runs the generator's body up to its next
    ``yield`` (or suspension) in steps, timed as a coroutine's are.
    """

    __slots__ = ("_agen", "_spec")

    def __init__(self, agen: Any, spec: _Spec) -> None:
        self._agen = agen
        self._spec = spec

    def __aiter__(self) -> _TimedAsyncGenerator:
        return self

    def __anext__(self) -> Any:
        return _drive(self._agen.__anext__(), self._spec)

    def asend(self, value: Any) -> Any:
        return _drive(self._agen.asend(value), self._spec)

    def athrow(self, *args: Any) -> Any:
        return _drive(self._agen.athrow(*args), self._spec)

    def aclose(self) -> Any:
        return _drive(self._agen.aclose(), self._spec)

    def __getattr__(self, name: str) -> Any:  # ag_frame, ag_running, ag_code ...
        return getattr(self._agen, name)


def _timed_generator(spec: _Spec) -> Callable[..., Any]:
    """The wrapper of an async generator method: the generator it returns is driven."""
    function = spec.function
    rate, draw = _rate, sample_draw

    def timed(*args: Any, **kwargs: Any) -> Any:
        if rate < 1.0 and draw() >= rate:
            return function(*args, **kwargs)
        return _TimedAsyncGenerator(function(*args, **kwargs), spec)

    functools.update_wrapper(timed, function)
    setattr(timed, TIMED_ATTR, True)
    return timed


def _on_loop_thread() -> bool:
    """Whether an event loop runs in this thread (asyncio, or trio; worker threads never)."""
    if is_loop_thread() or asyncio._get_running_loop() is not None:
        return True
    return in_trio_run()


def _call_fix(name: str) -> str:
    """A sync layer method called on the loop: the words the mypy plugin uses for the same call."""
    receiver, _, method = name.rpartition(".")
    return fixes.blocking_call_fix(fixes.sync_layer_call_fix(receiver or name, method))


def _qualified(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = display_name(function)
    return f"{module}.{name}" if isinstance(module, str) else name


def _report_call(spec: _Spec, frame: types.FrameType | None) -> None:
    function, function_site = loop_function(frame) or (None, None)
    detection = Detection(
        kind="call",
        blocking=spec.name,
        category="marked",
        site=site_of_frame(frame),
        route=route_here(),
        layer=spec.layer,
        layer_mode=spec.mode,
        duration=None,
        fix=_call_fix(spec.name),
        function=function,
        function_site=function_site,
    )
    _dispatch(detection, float("inf"))


def _checked(spec: _Spec) -> Callable[..., Any]:
    """The sync wrapper: a sync layer method called on a loop thread is reported, then run."""
    function = spec.function
    rate, draw = _rate, sample_draw

    def checked(*args: Any, **kwargs: Any) -> Any:
        if not _on_loop_thread() or (rate < 1.0 and draw() >= rate):
            return function(*args, **kwargs)
        _report_call(spec, sys._getframe(1) if sys._getframe(0).f_back else None)
        start = perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            end = perf_counter()
            _claims.append((end, end - start))  # reported already: not again as a step

    functools.update_wrapper(checked, function)
    setattr(checked, TIMED_ATTR, True)
    return checked


# --- instrumenting layer classes --------------------------------------------------------

_patched: list[tuple[type, str, object]] = []


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__call__"


def _wrapped_member(cls: type, info: LayerInfo, name: str, raw: object) -> object | None:
    kind = type(raw)
    function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    if type(function) is not types.FunctionType or getattr(function, TIMED_ATTR, False):
        return None
    flags = function.__code__.co_flags
    is_async = bool(flags & (_CO_COROUTINE | _CO_ASYNC_GENERATOR))
    spec = _Spec(
        function,
        function.__code__,
        f"{cls.__qualname__}.{name}",
        f"{cls.__qualname__}.{name}",
        info.mode,
    )
    if info.mode is Mode.ASYNC and flags & _CO_COROUTINE:
        wrapper = _timed(spec)
    elif info.mode is Mode.ASYNC and flags & _CO_ASYNC_GENERATOR:
        wrapper = _timed_generator(spec)
    elif (
        info.mode is Mode.SYNC and not is_async and (not name.startswith("_") or name == "__call__")
    ):
        wrapper = _checked(spec)
    else:
        return None
    return kind(wrapper) if kind in (staticmethod, classmethod) else wrapper


def instrument_class(cls: type) -> None:
    """Wrap the methods ``cls`` defines (called for every layer class while timing is on)."""
    info = cls.__dict__.get(LAYER_ATTR)
    if not isinstance(info, LayerInfo):
        return
    for name, raw in list(cls.__dict__.items()):
        wrapper = _wrapped_member(cls, info, name, raw)
        if wrapper is not None:
            type.__setattr__(cls, name, wrapper)
            _patched.append((cls, name, raw))


# --- instrumenting an app's endpoints and dependencies ----------------------------------


class _TimedCall:
    """Stands in for an async endpoint or dependency in FastAPI's dependant tree.

    It hashes and compares equal to the original, so ``dependency_overrides``
    keyed by the original and FastAPI's dependency cache still find it.
    FastAPI must await it as it awaits the original, and its classifiers
    differ by release (``_common/fastapi_compat.py``): FastAPI 0.123.10+ looks
    through ``__wrapped__`` to the original; older releases ask
    ``inspect.iscoroutinefunction(obj.__call__)``, so
    ``__call__`` is an ``async def`` (were it a plain ``def`` returning a
    coroutine, FastAPI would run it in the thread pool and hand the
    un-awaited coroutine on as the dependency's value).
    """

    __slots__ = ("__wrapped__", "_timed")

    def __init__(self, spec: _Spec) -> None:
        self.__wrapped__ = spec.function
        self._timed = _timed(spec)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return await self._timed(*args, **kwargs)

    def __hash__(self) -> int:
        return hash(self.__wrapped__)

    def __eq__(self, other: object) -> bool:
        return other is self or other == self.__wrapped__

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)


_apps: weakref.WeakSet[Any] = weakref.WeakSet()
_dependants: list[tuple[Any, Any]] = []


def _walk(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in getattr(dependant, "dependencies", ()):
        yield from _walk(sub)


def _app_routes(app: Any) -> Iterable[Any]:
    return served_routes(list(getattr(app, "routes", ())))


def _instrument_routes(app: Any) -> None:
    for route in _app_routes(app):
        for dependant in _walk(route.dependant):
            call = dependant.call
            if call is None or isinstance(call, _TimedCall) or getattr(call, TIMED_ATTR, False):
                continue
            shape = shape_of(call)
            if shape.shape is not Shape.COROUTINE_FUNCTION:
                continue
            target = shape.target
            if getattr(target, TIMED_ATTR, False):
                continue  # a bound layer method: timed as one already
            kind = "endpoint" if dependant is route.dependant else "dependency"
            if not fastapi_awaits(call, endpoint=kind == "endpoint"):
                continue  # FastAPI does not await it: a timed replacement would be awaited
            name = f"{display_name(target)} ({kind} of {route.path})"
            declared = getattr(target, LAYER_ATTR, None)
            layer = display_name(target) if isinstance(declared, LayerInfo) else None
            spec = _Spec(
                call,
                getattr(target, "__code__", None),
                name,
                layer,
                declared.mode if isinstance(declared, LayerInfo) else None,
            )
            # The endpoint is never looked up in dependency_overrides: a plain wrapper will do.
            dependant.call = _timed(spec) if kind == "endpoint" else _TimedCall(spec)
            _dependants.append((dependant, call))


def instrument_app(app: Any) -> None:
    """Also time ``app``'s async endpoints and dependencies while timing is on."""
    _apps.add(app)
    if active:
        _instrument_routes(app)


def timed_apps() -> list[Any]:
    return list(_apps)


# --- switching on and off ----------------------------------------------------------------


def _restore() -> None:
    while _patched:
        cls, name, raw = _patched.pop()
        type.__setattr__(cls, name, raw)
    while _dependants:
        dependant, call = _dependants.pop()
        dependant.call = call
    _claims.clear()
    _samples.clear()


def _tick() -> None:
    """Watchdog: sample every thread caught inside a timed step.

    Healthy steps last microseconds, so a tick rarely finds one; a stalled
    step is found by every tick while it lasts, and `_slow_step` takes the
    newest sample made during it.
    """
    now = perf_counter()
    with contextlib.suppress(Exception):  # a sample is a nicety: never kill the watchdog
        for ident in threads_running(_DRIVE_CODE, registered_threads()):
            sample = sample_thread(ident, now)
            if sample is not None:
                _samples.append(sample)


_gc_started = 0.0


def _gc_pause(phase: str, info: dict[str, int]) -> None:
    """A long collection's pause is the collector's, not the step's: claimed like a reported
    call, so that identical runs report the same slow steps wherever a collection falls."""
    global _gc_started
    if phase == "start":
        _gc_started = perf_counter()
        return
    end = perf_counter()
    if end - _gc_started > 0.001:  # the young generations' are short: no claim to keep
        _claims.append((end, end - _gc_started))


def _apply() -> None:
    global active, _threshold, _rate, _watchdog
    _restore()
    if _gc_pause in gc.callbacks:
        gc.callbacks.remove(_gc_pause)
    if "guard" in _sinks:  # the guard's verdicts must not flake; the monitor measures pauses
        gc.callbacks.append(_gc_pause)
    if _watchdog is not None:
        _watchdog.stop()
        _watchdog = None
    active = bool(_sinks)
    if not active:
        hooks.unregister(hooks.on_layer_declared, instrument_class)
        _apps.clear()
        _threshold, _rate = float("inf"), 1.0
        return
    _threshold = min(sink.threshold for sink in _sinks.values())
    _rate = max(sink.sample_rate for sink in _sinks.values())
    for cls in registry.layer_classes():
        instrument_class(cls)
    hooks.register(hooks.on_layer_declared, instrument_class)  # a class declared meanwhile too
    for app in list(_apps):
        _instrument_routes(app)
    _watchdog = Watchdog(
        "fastapi-boundary step sampler", min(max(_threshold / 2, 0.001), 0.05), _tick
    )
    _watchdog.start()


def attach(name: str, sink: Sink) -> None:
    """Start (or change) the consumer ``name``; the first one switches timing on."""
    _sinks[name] = sink
    _apply()


def detach(name: str) -> None:
    """Stop the consumer ``name``; the last one switches timing off and restores everything."""
    if _sinks.pop(name, None) is not None:
        _apply()


def consumers() -> list[str]:
    """The names of the consumers attached (``"guard"``, ``"monitor:..."``)."""
    return list(_sinks)


def reset() -> None:
    """Detach every consumer: timing off, every original back (the tests' reset)."""
    _sinks.clear()
    _apply()


def activate(threshold: float, report: Report) -> None:
    """Switch step timing on for the guard: steps of ``threshold`` s or more go to ``report``."""
    attach("guard", Sink(check_threshold(threshold, "activate(threshold=...)"), report))


def deactivate() -> None:
    """Switch the guard's step timing off (the monitor's, if any, stays)."""
    detach("guard")


def imported() -> None:
    """A module was imported on a loop thread just now (see `_slow_step`)."""
    _imports.append(perf_counter())


def claim(seconds: float) -> None:
    """Count ``seconds`` of the running step as reported already (by an intercepted call).

    The enclosing step then reports only the rest, so one blocking call is
    not reported twice, once as a call and once as a step.
    """
    _claims.append((perf_counter(), seconds))
