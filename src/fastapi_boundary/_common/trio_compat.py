"""Whether the running thread is inside a Trio run, on every Trio release apps pin.

``trio.lowlevel.in_trio_run()`` is recent (Trio 0.26); before it, a call that
needs a run (``current_task``) raising ``RuntimeError`` outside one tells the
same.  Trio itself is never imported here: a thread runs Trio only if it was.
"""

from __future__ import annotations

from .modules import loaded_module

__all__ = ["in_trio_run"]


def in_trio_run() -> bool:
    """Whether this thread runs a Trio event loop (a task, or guest mode's host callbacks)."""
    trio = loaded_module("trio")
    if trio is None:
        return False
    check = getattr(trio.lowlevel, "in_trio_run", None)
    if check is not None:
        return bool(check())
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True
