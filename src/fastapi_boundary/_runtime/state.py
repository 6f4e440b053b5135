"""`reset_state`: the library's module-level state back to a clean start, for tests.

The run-time wing sits on top of the others, so this is the one place that
knows every piece of state a test can leave behind, and resets each through
its own wing's accessor: the import-time check mode, the deferred
references, limiter sizes, the guard, what it recorded, step timing, the
loop-thread registry and where `run_cpu` sends its work.  Tests never write a private global.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._audit import enforcement, registry
from .._offload import cpu_backend, threads
from . import detection, guard, loop_threads, step_timing

__all__ = ["SavedState", "reset_state", "save_state"]


@dataclass(frozen=True)
class SavedState:
    """What `reset_state` puts back rather than empties.

    References deferred so far: test modules declare layers when they are
    imported, before any test runs, and their tests check those references.
    """

    deferred: tuple[registry.Deferred, ...]


def save_state() -> SavedState:
    return SavedState(tuple(registry.all_deferred()))


def reset_state(saved: SavedState | None = None, *, keep_guard: bool = False) -> None:
    """Reset the library's state; deferred references go back to ``saved`` (or none).

    The check mode is read from the environment again, every limiter has its
    declared size.  Unless ``keep_guard`` (a session the pytest plugin
    guards: the plugin owns it), the guard is off, nothing is recorded,
    step timing is off with every original back, and no thread is
    registered as running an event loop.
    """
    enforcement.reset_mode()
    registry.restore_deferred([] if saved is None else list(saved.deferred))
    threads.reset_sizes()
    cpu_backend.use_cpu_backend(None)  # run_cpu back on the default process pool
    if keep_guard:
        return
    guard.disable()
    step_timing.reset()
    detection.reset()
    loop_threads.forget_all()
