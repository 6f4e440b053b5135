"""Which threads run an event loop right now: the registry every fast path reads.

A thread is "on the loop" exactly while an event loop runs in it, and asking
costs one ``threading.get_ident()`` and one dict lookup (Home Assistant's
``protect_loop`` design).  anyio/starlette worker threads are never
registered, so blocking work offloaded to them is legitimate by
construction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = [
    "LOOP_THREADS",
    "forget_all",
    "get_ident",
    "in_executor_thread",
    "in_worker_thread",
    "is_loop_thread",
    "loop_thread",
    "register_loop_thread",
    "registered_threads",
    "suspended",
    "unregister_loop_thread",
]

#: Thread ident -> how many times it is registered (a loop run inside a request inside a
#: loop run...).  Read without a lock by the fast paths (``get_ident() in LOOP_THREADS``:
#: one dict lookup under the GIL); changed only through the functions below.
LOOP_THREADS: Final[dict[int, int]] = {}
_registry_lock = threading.Lock()
get_ident = threading.get_ident


def register_loop_thread(ident: int | None = None) -> int:
    """Mark the current thread (or ``ident``) as running an event loop; returns the ident."""
    if ident is None:
        ident = get_ident()
    with _registry_lock:
        LOOP_THREADS[ident] = LOOP_THREADS.get(ident, 0) + 1
    return ident


def unregister_loop_thread(ident: int) -> None:
    """Undo one `register_loop_thread` (idents are reused once a thread ends)."""
    with _registry_lock:
        count = LOOP_THREADS.get(ident, 0) - 1
        if count > 0:
            LOOP_THREADS[ident] = count
        else:
            LOOP_THREADS.pop(ident, None)


def is_loop_thread() -> bool:
    """Whether the calling thread runs an event loop right now: the interception fast path."""
    return get_ident() in LOOP_THREADS


def in_worker_thread() -> bool:
    """Whether the current thread is a thread pool's worker (anyio and Starlette's, an executor's).

    A loop started there (``asyncio.run`` in a ``def`` endpoint or a sync layer) is a
    private second loop: it stalls nobody else, and starting it is the mistake.
    """
    thread = threading.current_thread()
    kind = type(thread)
    return kind.__name__ == "WorkerThread" and kind.__module__.startswith("anyio.")


def in_executor_thread() -> bool:
    """Whether the current thread is a ``concurrent.futures`` executor's worker.

    anyio 3's blocking portal (TestClient's) runs its loop in one too: the guard asks
    this only for work done for a request (``run_in_executor`` from an endpoint).
    """
    target = vars(threading.current_thread()).get("_target")
    return getattr(target, "__module__", None) == "concurrent.futures.thread"


def registered_threads() -> list[int]:
    """Threads registered as running an event loop (empty: look at every thread)."""
    return list(LOOP_THREADS)


def forget_all() -> None:
    """Unregister every thread (the tests' reset; a running loop registers itself again)."""
    with _registry_lock:
        LOOP_THREADS.clear()


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
        count = LOOP_THREADS.pop(ident, 0)
    try:
        yield
    finally:
        if count:
            with _registry_lock:
                LOOP_THREADS[ident] = LOOP_THREADS.get(ident, 0) + count
