"""What the guard and step timing report, and how a report is handled (the policy).

Every run-time line of defence (intercepted calls, marked callables, sync
layer methods, slow synchronous steps) builds one `Detection` and hands it
to `report`, which applies the exemptions, then raises (strict), logs once
(warn) or does nothing (off), and records it for the pytest summary.

Which threads count as the event loop is `loop_threads`; where a detection
is attributed (the user's line, the route, the layer) is `attribution`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .._common.errors import BlockingCallError
from .._common.modes import Mode
from .._common.policy import Policy
from .._common.sites import Site
from .loop_threads import suspended

__all__ = [
    "Cause",
    "Detection",
    "GuardMode",
    "Recorder",
    "current_policy",
    "format_message",
    "recorder",
    "report",
    "reset",
    "set_policy",
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
    function: str | None = None  # the fake-async function: the innermost user async def
    function_site: Site | None = None

    @property
    def key(self) -> Key:
        """What "the same detection" means: what blocked, where, in which async function.

        One line of a shared repository reached from two fake-async functions is two
        causes: each is named, with its own routes.
        """
        return self.blocking, None if self.site is None else str(self.site), self.function

    @property
    def cause(self) -> tuple[str, str]:
        """The summary's line: the fake-async function (or the site) and what it blocks on."""
        holder = self.function or (str(self.site) if self.site is not None else "?")
        return holder, self.blocking


#: ``(blocking, site, function)``: see `Detection.key`.
Key = tuple[str, "str | None", "str | None"]


@dataclass
class Cause:
    """One line of the summary: a fake-async function and the blocking call it makes."""

    first: Detection
    count: int = 0
    routes: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)

    def describe(self) -> str:
        found = self.first
        who = found.function or "code on the loop"
        if found.function is not None and found.function_site is not None:
            who += f" ({found.function_site})"
        verb = "held the loop in a slow step" if found.kind == "step" else "calls"
        what = "" if found.kind == "step" else f" {found.blocking} ({found.category})"
        where = f" at {', '.join(self.sites)}" if self.sites else ""
        parts = [f"{who} {verb}{what}{where} x{self.count}"]
        if self.routes:
            parts.append(f"routes: {', '.join(self.routes)}")
        if found.layer is not None:
            parts.append(f"layer: {found.layer}")
        return "; ".join(parts)


# --- what happens to a detection ----------------------------------------------------


#: Detections kept in full; beyond it only counted (a dev server in warn mode runs for days).
RECORDER_LIMIT = 10_000


@dataclass
class Recorder:
    """Everything reported while the guard was on, for the fixture and the summary."""

    detections: list[Detection] = field(default_factory=list)
    exempted: list[tuple[Detection, str]] = field(default_factory=list)
    counts: Counter[Key] = field(default_factory=Counter)
    _causes: dict[tuple[str, str], Cause] = field(default_factory=dict, repr=False)

    def add(self, detection: Detection) -> None:
        self.counts[detection.key] += 1
        cause = self._causes.get(detection.cause)
        if cause is None:
            cause = self._causes[detection.cause] = Cause(detection)
        cause.count += 1
        if detection.route is not None and detection.route not in cause.routes:
            cause.routes.append(detection.route)
        site = None if detection.site is None else str(detection.site)
        if site is not None and site not in cause.sites and len(cause.sites) < 5:
            cause.sites.append(site)
        if len(self.detections) < RECORDER_LIMIT:
            self.detections.append(detection)

    def causes(self) -> list[Cause]:
        """One per (fake-async function, blocking call), with every route it was seen on."""
        return list(self._causes.values())

    def add_exempted(self, detection: Detection, reason: str) -> None:
        if len(self.exempted) < RECORDER_LIMIT:
            self.exempted.append((detection, reason))

    def clear(self) -> None:
        self.detections.clear()
        self.exempted.clear()
        self.counts.clear()
        self._causes.clear()

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
_warned: set[tuple[Key, bool]] = set()


def set_policy(mode: GuardMode, exempt: Exempt | None = None) -> None:
    """Set by the guard: how `report` reacts and what it lets through."""
    global _mode, _exempt
    _mode = mode
    _exempt = exempt
    _warned.clear()


def current_policy() -> GuardMode:
    return _mode


def reset() -> None:
    """Policy off, nothing recorded (the tests' reset)."""
    set_policy("off", None)
    recorder.clear()


def _what(detection: Detection) -> str:
    if detection.kind == "step":
        duration = 0.0 if detection.duration is None else detection.duration
        return (
            f"a synchronous step of {detection.blocking} held the event loop for "
            f"{duration * 1000:.1f} ms"
        )
    category = detection.category
    if category == "loop":
        return f"{detection.blocking} started a second event loop in a worker thread"
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
    effect = (
        "the worker thread waits for it, and the coroutine cannot use the app's loop "
        "(its clients, pools and locks)"
        if detection.category == "loop"
        else "every other request on this loop waits meanwhile"
    )
    return " ".join(parts) + f": {effect}. Fix: {detection.fix}."


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
    # start-up (no route) and requests apart: a dev server's start-up never hides a request's
    key = (detection.key, detection.route is None)
    if key not in _warned:
        _warned.add(key)
        with suspended():
            logger.warning("%s", format_message(detection))
