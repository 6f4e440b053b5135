"""Observers of declarations: how declaring a layer or marking a function reaches the runtime.

The audit and offload wings sit below the run-time wing and never import it,
yet while the guard or step timing is on, a layer class declared meanwhile
must be timed and a function marked ``@blocking``/``@cpu_bound`` meanwhile
must be checked.  The runtime registers an observer here when it switches on
and unregisters it when it switches off.  With none registered (always,
unless the guard, step timing or the monitor is on) a declaration pays one
falsy check of a list; calls never pay anything, observers run when a class
is declared or a function is marked.

The monitor's profiler also sets `offload_observer` for the requests it samples:
a thread offload (``run_blocking``, ``to_async``, ``offload_dependency``: all
reach ``Limiter.run``) reads it once and, for a sampled request only, goes
through `observed_offload`, which tells the profiler how long the request
awaited it.  A process offload reports the same way, as ``"process"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from time import perf_counter
from typing import Any, TypeVar, cast

__all__ = [
    "LayerObserver",
    "MarkObserver",
    "OffloadObserver",
    "layer_declared",
    "marked",
    "observed_offload",
    "offload_observer",
    "on_layer_declared",
    "on_marked",
    "register",
    "unregister",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: Told of each layer class as it is declared (step timing wraps its methods).
LayerObserver = Callable[[type], None]
#: Told of each function as ``@blocking``/``@cpu_bound`` marks it; returns what the decorated
#: name binds instead (the guard's checked wrapper), or the function itself.
MarkObserver = Callable[[Callable[..., Any]], Callable[..., Any]]
ObserverT = TypeVar("ObserverT", bound=Callable[..., Any])

#: Observers of layer declarations; callers test it first (empty: nothing to tell).
on_layer_declared: list[LayerObserver] = []
#: Observers of marked functions; callers test it first (empty: nothing to tell).
on_marked: list[MarkObserver] = []

#: Told of each offload a profiled request awaited: its kind (``"thread"`` or ``"process"``)
#: and the seconds from entering it to its result (waiting for a token or worker included).
OffloadObserver = Callable[[str, float], None]
#: Set by the profiler in a sampled request's context only: an offload that reads ``None``
#: (every request unless the monitor profiles it) runs as if the profiler did not exist.
offload_observer: ContextVar[OffloadObserver | None] = ContextVar(
    "fastapi_boundary_offload_observer", default=None
)


def register(observers: list[ObserverT], observer: ObserverT) -> None:
    """Add ``observer`` to ``observers`` (once: registering again changes nothing)."""
    if observer not in observers:
        observers.append(observer)


def unregister(observers: list[ObserverT], observer: ObserverT) -> None:
    """Remove ``observer`` from ``observers`` if it is there."""
    if observer in observers:
        observers.remove(observer)


def layer_declared(cls: type) -> None:
    """Tell every observer that ``cls`` was just declared a layer."""
    for observer in tuple(on_layer_declared):
        observer(cls)


def marked(func: F) -> F:
    """Hand ``func``, just marked, to every observer; returns what the name should bind."""
    result: Callable[..., Any] = func
    for observer in tuple(on_marked):
        result = observer(result)
    return cast(F, result)


async def observed_offload(kind: str, offload: Awaitable[T]) -> T:
    """Await ``offload`` (not started yet) and tell the request's observer how long it took.

    The observer is unset meanwhile: an offload this one reaches (``run_blocking``
    going through its limiter, a nested offload) is part of it, not counted again.
    """
    observer = offload_observer.get()
    token = offload_observer.set(None)
    start = perf_counter()
    try:
        return await offload
    finally:
        offload_observer.reset(token)
        if observer is not None:
            observer(kind, perf_counter() - start)
