"""The guard: blocking work on the event loop raises (strict) or is logged (warn).

For tests and development.  `enable` switches on every line of defence that
works at run time — the audit hook, catalogue wrappers and re-bound names
(`interception`), ``@blocking``/``@cpu_bound`` callables, and step timing
of layer methods (`step_timing`) — and registers the threads that
run an event loop:

- every asyncio loop while ``run_forever`` runs (anyio's test runner,
  ``asyncio.run``, uvicorn, TestClient's portal thread);
- ``trio.run`` and trio guest runs (anyio's trio test runner);
- every request and lifespan of a Starlette/FastAPI app (any loop,
  uvloop included), which also binds the request's scope so reports name
  the route;
- the current thread, when `enable` is called on a running loop.

`disable` undoes all of it.  Worker threads (anyio, starlette, executors)
are never registered: offloaded blocking work is legitimate.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from asyncio import _get_running_loop as asyncio_running_loop
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from .._common import catalog, hooks
from .._common.declarations import LOOP_HOOK_ATTR
from .._common.errors import BoundaryError
from .._common.fixes import private_loop_fix
from .._common.modules import loaded_module
from .._common.policy import policy_problem
from .._common.trio_compat import in_trio_run
from . import detection, step_timing
from .attribution import where
from .detection import Detection, GuardMode, Recorder, report, set_policy
from .exemptions import Exemption, Exemptions, load_baseline, parse_exemptions
from .interception import Interceptor, Target, check, wrap_marked
from .lazy_loads import explained
from .loop_threads import (
    LOOP_THREADS,
    get_ident,
    in_executor_thread,
    in_worker_thread,
    register_loop_thread,
    suspended,
    unregister_loop_thread,
)
from .request_scope import bind_scope, current_route, unbind_scope
from .wrappers import frame_above

__all__ = [
    "DEFAULT_THRESHOLD",
    "allow",
    "disable",
    "enable",
    "exemptions",
    "guarded",
    "is_enabled",
    "recorder",
    "refresh",
]

#: A synchronous step longer than this is reported by step timing (seconds).
DEFAULT_THRESHOLD = 0.05

_interceptor = Interceptor()
_events: dict[str, Target] = {}  # mutated in place: the audit hook holds a reference
_hook_added = False
_enabled = False
_exemptions = Exemptions()
_allowances: list[Exemptions] = []
_entries_before: tuple[catalog.BlockingEntry, ...] | None = None
_own_ident: int | None = None
_steps_active = False
_time_endpoints = False
_endpoint_apps: weakref.WeakSet[Any] = weakref.WeakSet()  # apps whose endpoints are timed


#: The last private loop reported, per thread (asyncio.run runs its loop several times).
_private = threading.local()

#: The ``import`` audit event: not blocking work to report, but step timing's warm-up signal.
_IMPORT = Target("import", "import", "")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    target = _events.get(event)
    if target is not None and get_ident() in LOOP_THREADS:
        if target is _IMPORT:
            step_timing.imported()
        else:
            check(target, frame_above(1), args, {})  # None at a greenlet's or thread's bottom


def _exempt(found: Detection) -> str | None:
    for allowance in reversed(_allowances):
        reason = allowance(found)
        if reason is not None:
            return reason
    return _exemptions(found)


def enable(
    mode: GuardMode = "strict",
    *,
    threshold: float = DEFAULT_THRESHOLD,
    blocking: Mapping[str, str] | Iterable[str] = (),
    exemptions: Mapping[str, str] | Iterable[str] | Iterable[Exemption] = (),
    baseline: str | Path | None = None,
    endpoints: bool = False,
) -> None:
    """Switch the guard on (again: `disable` first; it replaces the previous settings).

    ``blocking`` adds catalogue entries (``{"mylib.fetch": "net"}``);
    ``exemptions`` allows named callables or layers, each with a reason
    (``{"time.sleep": "legacy client, #123"}``); ``baseline`` is a baseline
    file whose entries are exemptions too.  ``threshold`` is the longest
    synchronous step (seconds) step timing lets pass.  ``endpoints=True``
    also times the steps of every app's async endpoints and dependencies
    (layer methods are always timed), from the app's first request or lifespan.
    """
    global _hook_added, _enabled, _exemptions, _entries_before, _own_ident, _steps_active
    global _time_endpoints
    problem = policy_problem(
        mode, "guard mode", "enable('strict'), enable('warn') or enable('off')."
    )
    if problem is not None:
        raise BoundaryError(problem)
    if _enabled:
        disable()
    items = _exemption_list(exemptions)
    if baseline is not None:
        items += load_baseline(baseline)
    _exemptions = Exemptions(items)
    set_policy(mode, _exempt)
    if mode == "off":
        return
    try:
        step_timing.activate(threshold, report)  # first: it validates the threshold
        _steps_active = True
        if blocking:
            new_entries = catalog.parse_entries(blocking, "enable(blocking=...)")
            _entries_before = catalog.snapshot()
            catalog.extend(new_entries)
        _enabled = True
        hooks.register(hooks.on_marked, wrap_marked)  # a function marked while on is checked too
        _time_endpoints = bool(endpoints)
        _interceptor.refresh()
        with suspended():
            _patch_loops()
            _events.clear()
            _events.update(_interceptor.events)
            _events["import"] = _IMPORT
    except BaseException:
        disable()
        raise
    if not _hook_added:
        sys.addaudithook(_audit)
        _hook_added = True
    if _running_in_loop():
        _own_ident = register_loop_thread()


def disable() -> None:
    """Switch the guard off and undo every wrapper, re-binding and registration."""
    global _enabled, _entries_before, _own_ident, _steps_active, _time_endpoints
    set_policy("off", None)
    hooks.unregister(hooks.on_marked, wrap_marked)
    _time_endpoints = False
    _endpoint_apps.clear()
    if _steps_active:
        step_timing.deactivate()
        _steps_active = False
    _events.clear()
    _interceptor.restore()
    if _own_ident is not None:
        unregister_loop_thread(_own_ident)
        _own_ident = None
    if _entries_before is not None:
        catalog.restore(_entries_before)
        _entries_before = None
    _enabled = False


@contextmanager
def guarded(
    mode: GuardMode = "strict",
    *,
    threshold: float = DEFAULT_THRESHOLD,
    blocking: Mapping[str, str] | Iterable[str] = (),
    exemptions: Mapping[str, str] | Iterable[str] | Iterable[Exemption] = (),
    baseline: str | Path | None = None,
    endpoints: bool = False,
) -> Iterator[Recorder]:
    """`enable` for the block, then `disable`; yields what was recorded."""
    enable(
        mode,
        threshold=threshold,
        blocking=blocking,
        exemptions=exemptions,
        baseline=baseline,
        endpoints=endpoints,
    )
    try:
        yield detection.recorder
    finally:
        disable()


@contextmanager
def allow(names: Iterable[str], reason: str, source: str = "allow()") -> Iterator[Exemptions]:
    """Allow the named callables or layers inside the block (the pytest marker uses it)."""
    allowance = Exemptions(Exemption(name, reason, None, source) for name in names)
    _allowances.append(allowance)
    try:
        yield allowance
    finally:
        _allowances.remove(allowance)


def is_enabled() -> bool:
    return _enabled


def recorder() -> Recorder:
    """What the guard reported (and exempted) since the recorder was last cleared."""
    return detection.recorder


def exemptions() -> Exemptions:
    """The exemptions in force (configuration and baseline), with how often each fired."""
    return _exemptions


def refresh() -> None:
    """Wrap what was imported since the guard was enabled (cheap when nothing was)."""
    if _enabled and _interceptor.refresh():
        with suspended():
            _events.update(_interceptor.events)
            _patch_loops()


def _exemption_list(
    spec: Mapping[str, str] | Iterable[str] | Iterable[Exemption],
) -> list[Exemption]:
    if isinstance(spec, Mapping):
        return parse_exemptions(spec, "enable(exemptions=...)")
    items = list(spec)
    if all(isinstance(item, Exemption) for item in items):
        return [item for item in items if isinstance(item, Exemption)]
    return parse_exemptions([str(item) for item in items], "enable(exemptions=...)")


def _running_in_loop() -> bool:
    """Whether an asyncio or trio loop runs in this thread right now."""
    if asyncio_running_loop() is not None:
        return True
    return in_trio_run()


# --- registering loop threads -------------------------------------------------------


def _patch_loops() -> None:
    asyncio_events = loaded_module("asyncio.base_events")
    if asyncio_events is not None:
        loop_class = asyncio_events.BaseEventLoop
        _patch(loop_class, "run_forever", _registering_run_forever)
    trio = loaded_module("trio")
    if trio is not None:
        _patch(trio, "run", _registering_call)
        _patch(trio.lowlevel, "start_guest_run", _registering_guest_run)
    applications = loaded_module("starlette.applications")
    if applications is not None:
        _patch(applications.Starlette, "__call__", _registering_app)


def _patch(holder: object, attr: str, make: Callable[[Any], Any]) -> None:
    current = getattr(holder, attr)
    if getattr(current, LOOP_HOOK_ATTR, False):
        return
    replacement = make(current)
    setattr(replacement, LOOP_HOOK_ATTR, True)
    _interceptor.set(holder, attr, replacement)


def _registering_run_forever(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def run_forever(self: Any) -> None:
        refresh()
        if in_worker_thread() or (in_executor_thread() and current_route() is not None):
            # a private loop started by work offloaded from the app: reported, not registered
            _private_loop(self, sys._getframe(1))
            original(self)
            return
        ident = register_loop_thread()
        try:
            original(self)
        finally:
            unregister_loop_thread(ident)

    return run_forever


def _private_loop(loop: Any, frame: FrameType | None) -> None:
    """``asyncio.run``/``run_until_complete`` in a worker thread: a second event loop.

    What runs on it stalls nobody else (it is not reported); starting it is the mistake,
    reported once per loop (``asyncio.run`` runs its loop again to shut it down).
    """
    last = getattr(_private, "loop", None)
    if last is not None and last() is loop:
        return
    with contextlib.suppress(TypeError):
        _private.loop = weakref.ref(loop)
    names: list[tuple[object, str]] = []
    probe = frame
    while probe is not None and len(names) < 8:
        names.append((probe.f_globals.get("__name__"), probe.f_code.co_name))
        probe = probe.f_back
    blocking = "asyncio.run" if ("asyncio.runners", "run") in names else "loop.run_until_complete"
    site, route, layer, mode = where(frame)
    fix = private_loop_fix()
    report(Detection("call", blocking, "loop", site, route, layer, mode, None, fix))


def _registering_call(original: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        refresh()
        ident = register_loop_thread()
        try:
            return original(*args, **kwargs)
        finally:
            unregister_loop_thread(ident)

    return run


def _registering_guest_run(original: Callable[..., Any]) -> Callable[..., Any]:
    """Trio guest mode runs tasks in the host thread: register it while the main task runs."""

    def start_guest_run(async_fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        async def registered(*inner: Any) -> Any:
            ident = register_loop_thread()
            try:
                return await async_fn(*inner)
            finally:
                unregister_loop_thread(ident)

        return original(registered, *args, **kwargs)

    return start_guest_run


def _registering_app(original: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Each request (and the lifespan) of an app runs on a loop thread, for a route."""
    modules = sys.modules

    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if len(modules) != _interceptor.modules_seen:
            refresh()  # modules imported since the last look: wrap what they hold
        if _time_endpoints and self not in _endpoint_apps:
            _endpoint_apps.add(self)
            step_timing.instrument_app(self)
        token = bind_scope(scope)
        # the loop's thread is registered while its run_forever runs: the common case costs
        # a lookup, not a registration under the lock per request (uvloop runs it in C)
        ident = None if get_ident() in LOOP_THREADS else register_loop_thread()
        try:
            await original(self, scope, receive, send)
        except Exception as error:
            better = explained(error, current_route())
            if better is None:
                raise
            raise better from error
        finally:
            unbind_scope(token)
            if ident is not None:
                unregister_loop_thread(ident)

    return __call__
