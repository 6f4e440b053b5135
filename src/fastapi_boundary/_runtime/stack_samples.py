"""Stack samples of a stalled thread, taken from another thread.

The event loop cannot report its own stall while it is stalled; a watchdog
thread can: ``sys._current_frames()`` gives every thread's innermost frame,
and a sample keeps (code, line) pairs — not the frames, which keep running
and change under the reader.  Samples are taken only during a stall, so a
healthy loop pays nothing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import CodeType, FrameType

from .._common.sites import Site, relative_path

__all__ = ["Sample", "Watchdog", "sample_thread", "threads_running"]


@dataclass(frozen=True)
class Sample:
    """One thread's stack at one moment, innermost frame first."""

    taken: float
    thread: int
    frames: tuple[tuple[CodeType, int], ...]

    def line_of(self, code: CodeType) -> Site | None:
        """The line the innermost frame running ``code`` was at."""
        for frame_code, line in self.frames:
            if frame_code is code:
                return Site(relative_path(frame_code.co_filename), line)
        return None

    def codes(self) -> set[CodeType]:
        return {code for code, _ in self.frames}


def _frames(frame: FrameType | None, limit: int = 256) -> tuple[tuple[CodeType, int], ...]:
    found: list[tuple[CodeType, int]] = []
    while frame is not None and len(found) < limit:
        found.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return tuple(found)


def sample_thread(ident: int, taken: float) -> Sample | None:
    """A sample of thread ``ident``, or ``None`` when it no longer runs."""
    frame = sys._current_frames().get(ident)
    return None if frame is None else Sample(taken, ident, _frames(frame))


def threads_running(code: CodeType, among: Collection[int] = ()) -> list[int]:
    """The threads (``among`` these, if given) whose stack holds a frame of ``code`` now."""
    found = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident() or (among and ident not in among):
            continue
        probe: FrameType | None = frame
        while probe is not None:
            if probe.f_code is code:
                found.append(ident)
                break
            probe = probe.f_back
    return found


class Watchdog:
    """A daemon thread that calls ``tick()`` every ``interval`` seconds until stopped.

    ``tick`` decides whether something is stalled and samples it; it must
    not raise (an exception ends the thread, which is then reported once by
    ``threading.excepthook``).
    """

    def __init__(self, name: str, interval: float, tick: Callable[[], None]) -> None:
        self.interval = interval
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(1.0, 4 * self.interval))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._tick()
