"""What the guard and step timing report, and which threads count as the event loop.

Every run-time line of defence (intercepted calls, marked callables, sync
layer methods, slow synchronous steps) builds one `Detection` and hands it
to `report`, which applies the exemptions, then raises (strict), logs once
(warn) or does nothing (off), and records it for the pytest summary.

The loop-thread registry is what keeps interception cheap off the loop: a
thread is "on the loop" exactly while an event loop runs in it, and asking
costs one ``threading.get_ident()`` and one dict lookup (Home Assistant's
``protect_loop`` design).  anyio/starlette worker threads are never
registered, so blocking work offloaded to them is legitimate by
construction.
"""

from __future__ import annotations

import functools
import logging
import os
import sysconfig
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Literal

from .._common.declarations import LAYER_ATTR, LayerInfo
from .._common.errors import BlockingCallError
from .._common.modes import Mode
from .._common.policy import Policy
from .._common.sites import Site, _relative
from .request_scope import current_route

__all__ = [
    "Detection",
    "GuardMode",
    "Recorder",
    "caller_frame",
    "format_message",
    "is_loop_thread",
    "layer_on_stack",
    "loop_thread",
    "register_loop_thread",
    "report",
    "set_policy",
    "suspended",
    "unregister_loop_thread",
]

logger = logging.getLogger("fastapi_boundary.guard")

GuardMode = Policy  # the guard takes the one policy literal


@dataclass(frozen=True)
class Detection:
    """One piece of blocking work seen on the event loop thread.

    ``kind`` is ``"call"`` for an intercepted blocking call and ``"step"``
    for a slow synchronous step of a coroutine (step timing).  ``blocking``
    is the qualified name of the blocking callable (or the layer method, for
    a step); ``category`` the catalogue category, ``"marked"`` for
    ``@blocking``/``@cpu_bound`` callables and sync layer methods, or
    ``"step"``.
    """

    kind: Literal["call", "step"]
    blocking: str
    category: str
    site: Site | None
    route: str | None
    layer: str | None
    layer_mode: Mode | None
    duration: float | None
    fix: str

    @property
    def key(self) -> tuple[str, str | None]:
        """What "the same detection" means for warn-once and the summary: name and site."""
        return self.blocking, None if self.site is None else str(self.site)


# --- which threads run an event loop -------------------------------------------------

# thread ident -> how many times it is registered (a loop run inside a request inside a
# loop run...).  Read without a lock: one dict lookup under the GIL.
_loop_threads: dict[int, int] = {}
_registry_lock = threading.Lock()
get_ident = threading.get_ident


def register_loop_thread(ident: int | None = None) -> int:
    """Mark the current thread (or ``ident``) as running an event loop; returns the ident."""
    if ident is None:
        ident = get_ident()
    with _registry_lock:
        _loop_threads[ident] = _loop_threads.get(ident, 0) + 1
    return ident


def unregister_loop_thread(ident: int) -> None:
    """Undo one `register_loop_thread` (idents are reused once a thread ends)."""
    with _registry_lock:
        count = _loop_threads.get(ident, 0) - 1
        if count > 0:
            _loop_threads[ident] = count
        else:
            _loop_threads.pop(ident, None)


def is_loop_thread() -> bool:
    """Whether the calling thread runs an event loop right now: the interception fast path."""
    return get_ident() in _loop_threads


@contextmanager
def loop_thread() -> Iterator[None]:
    """Treat the current thread as the loop thread for the block (a test body, a request)."""
    ident = register_loop_thread()
    try:
        yield
    finally:
        unregister_loop_thread(ident)


@contextmanager
def suspended() -> Iterator[None]:
    """Let the current thread block without being reported (the guard's own work).

    Reporting reads source lines and the working directory, which would be
    caught themselves; the thread leaves the registry for the block, so the
    fast path stays a single lookup.
    """
    ident = get_ident()
    with _registry_lock:
        count = _loop_threads.pop(ident, 0)
    try:
        yield
    finally:
        if count:
            with _registry_lock:
                _loop_threads[ident] = _loop_threads.get(ident, 0) + count


# --- where: the caller, the layer ----------------------------------------------------


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple(
        sorted({os.path.realpath(path) + os.sep for path in paths if path}, key=len, reverse=True)
    )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_paths = sysconfig.get_paths()
_STDLIB_DIRS = _dirs(_paths.get("stdlib"), _paths.get("platstdlib"))
_THIRD_PARTY_DIRS = _dirs(_paths.get("purelib"), _paths.get("platlib"))


_FOREIGN_DIRS = _STDLIB_DIRS + _THIRD_PARTY_DIRS


def _is_library(filename: str) -> bool:
    return filename.startswith((_PACKAGE_DIR, "<frozen "))


@functools.lru_cache(maxsize=512)
def _is_foreign(filename: str) -> bool:
    real = os.path.realpath(filename) if not filename.startswith("<") else filename
    return real.startswith(_FOREIGN_DIRS)


def caller_frame(frame: FrameType | None) -> FrameType | None:
    """The user's frame that made the blocking call.

    The first frame outside this package, the standard library and installed
    packages (``requests`` calling ``socket`` is the user's call to
    ``requests``); failing that, the first frame outside this package.
    """
    first_outside: FrameType | None = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_library(filename):
            if first_outside is None:
                first_outside = frame
            if not _is_foreign(filename):
                return frame
        frame = frame.f_back
    return first_outside


def site_of_frame(frame: FrameType | None) -> Site | None:
    if frame is None:
        return None
    return Site(_relative(frame.f_code.co_filename), frame.f_lineno)


def _layer_of_frame(frame: FrameType) -> tuple[str, Mode] | None:
    code = frame.f_code
    if not code.co_argcount:
        function = frame.f_globals.get(code.co_name)
        info = getattr(function, LAYER_ATTR, None)
        return (code.co_name, info.mode) if isinstance(info, LayerInfo) else None
    receiver = frame.f_locals.get(code.co_varnames[0])
    owner = receiver if isinstance(receiver, type) else type(receiver)
    info = getattr(owner, LAYER_ATTR, None)
    if isinstance(info, LayerInfo):
        # the class that defines the method, not a subclass the receiver happens to be
        for klass in owner.__mro__:
            member = klass.__dict__.get(code.co_name)
            member = getattr(member, "__func__", member)
            if getattr(member, "__code__", None) is code:
                return f"{klass.__qualname__}.{code.co_name}", info.mode
        return f"{owner.__qualname__}.{code.co_name}", info.mode
    function = frame.f_globals.get(code.co_name)
    info = getattr(function, LAYER_ATTR, None)
    return (code.co_name, info.mode) if isinstance(info, LayerInfo) else None


def layer_on_stack(frame: FrameType | None) -> tuple[str | None, Mode | None]:
    """The innermost declared layer method (or ``@layer`` function) on the stack."""
    while frame is not None:
        found = _layer_of_frame(frame)
        if found is not None:
            return found
        frame = frame.f_back
    return None, None


def where(frame: FrameType | None) -> tuple[Site | None, str | None, str | None, Mode | None]:
    """Site, route, layer and layer mode for a detection made at ``frame``."""
    with suspended():
        site = site_of_frame(caller_frame(frame))
        layer, mode = layer_on_stack(frame)
        return site, current_route(), layer, mode


# --- what happens to a detection ----------------------------------------------------


#: Detections kept in full; beyond it only counted (a dev server in warn mode runs for days).
RECORDER_LIMIT = 10_000


@dataclass
class Recorder:
    """Everything reported while the guard was on, for the fixture and the summary."""

    detections: list[Detection] = field(default_factory=list)
    exempted: list[tuple[Detection, str]] = field(default_factory=list)
    counts: Counter[tuple[str, str | None]] = field(default_factory=Counter)

    def add(self, detection: Detection) -> None:
        self.counts[detection.key] += 1
        if len(self.detections) < RECORDER_LIMIT:
            self.detections.append(detection)

    def add_exempted(self, detection: Detection, reason: str) -> None:
        if len(self.exempted) < RECORDER_LIMIT:
            self.exempted.append((detection, reason))

    def clear(self) -> None:
        self.detections.clear()
        self.exempted.clear()
        self.counts.clear()

    @property
    def calls(self) -> list[Detection]:
        return [d for d in self.detections if d.kind == "call"]

    @property
    def steps(self) -> list[Detection]:
        return [d for d in self.detections if d.kind == "step"]

    def names(self) -> list[str]:
        return [d.blocking for d in self.detections]


#: Returns the reason when a detection is exempt (an exemption, a baseline entry, a marker).
Exempt = Callable[[Detection], "str | None"]

_mode: GuardMode = "off"
_exempt: Exempt | None = None
recorder = Recorder()
_warned: set[tuple[str, str | None]] = set()


def set_policy(mode: GuardMode, exempt: Exempt | None = None) -> None:
    """Set by the guard: how `report` reacts and what it lets through."""
    global _mode, _exempt
    _mode = mode
    _exempt = exempt
    _warned.clear()


def current_policy() -> GuardMode:
    return _mode


def _what(detection: Detection) -> str:
    if detection.kind == "step":
        duration = 0.0 if detection.duration is None else detection.duration
        return (
            f"a synchronous step of {detection.blocking} held the event loop for "
            f"{duration * 1000:.1f} ms"
        )
    category = detection.category
    if category == "marked":
        return f"{detection.blocking} (marked blocking) ran on the event loop thread"
    return f"blocking call {detection.blocking} ({category}) on the event loop thread"


def format_message(detection: Detection) -> str:
    """ "What, where, route, layer and mode, fix" in one paragraph."""
    parts = [_what(detection)]
    if detection.site is not None:
        parts.append(f"at {detection.site}")
    if detection.route is not None:
        parts.append(f"while serving {detection.route}")
    if detection.layer is not None:
        mode = f" ({detection.layer_mode.value} layer)" if detection.layer_mode else ""
        parts.append(f"in {detection.layer}{mode}")
    return (
        " ".join(parts)
        + ": every other request on this loop waits meanwhile. "
        + f"Fix: {detection.fix}."
    )


def report(detection: Detection) -> None:
    """Apply exemptions, then raise (strict), log once (warn) or ignore (off)."""
    __tracebackhide__ = True
    mode = _mode
    if mode == "off":
        return
    exempt = _exempt
    if exempt is not None:
        with suspended():
            reason = exempt(detection)
        if reason is not None:
            recorder.add_exempted(detection, reason)
            return
    recorder.add(detection)
    if mode == "strict":
        with suspended():
            message = format_message(detection)
        raise BlockingCallError(message, detection=detection)
    key = detection.key
    if key not in _warned:
        _warned.add(key)
        with suspended():
            logger.warning("%s", format_message(detection))
