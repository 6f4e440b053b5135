"""Observers of declarations: how declaring a layer or marking a function reaches the runtime.

The audit and offload wings sit below the run-time wing and never import it,
yet while the guard or step timing is on, a layer class declared meanwhile
must be timed and a function marked ``@blocking``/``@cpu_bound`` meanwhile
must be checked.  The runtime registers an observer here when it switches on
and unregisters it when it switches off.  With none registered (always,
unless the guard, step timing or the monitor is on) a declaration pays one
falsy check of a list; calls never pay anything, observers run when a class
is declared or a function is marked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = [
    "LayerObserver",
    "MarkObserver",
    "layer_declared",
    "marked",
    "on_layer_declared",
    "on_marked",
    "register",
    "unregister",
]

F = TypeVar("F", bound=Callable[..., Any])

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
