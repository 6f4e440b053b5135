"""The audit's memory: deferred references and the layer classes seen so far.

A string annotation naming a class that does not exist yet is *deferred*, never
dropped: it is retried when a class of that name is created in the same module,
when a router registers a route, and by ``check_app``.  Kept apart from the
annotation scanning (`annotations`) so that what is remembered — and what a test
resets — is in one small place.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._common.declarations import LayerInfo

__all__ = [
    "Deferred",
    "all_deferred",
    "defer",
    "deferred_for_name",
    "forget",
    "layer_classes",
    "layer_classes_named",
    "remember_layer_class",
    "restore_deferred",
]


@dataclass
class Deferred:
    """An unresolved reference of a layer, kept until it can be checked."""

    owner: object
    owner_info: LayerInfo
    via: str
    expression: str
    missing: str
    module: str
    localns: Mapping[str, Any] = field(default_factory=dict)


_deferred: list[Deferred] = []
_layer_classes: weakref.WeakSet[type] = weakref.WeakSet()


def defer(item: Deferred) -> None:
    _deferred.append(item)


def remember_layer_class(cls: type) -> None:
    _layer_classes.add(cls)


def deferred_for_name(name: str, module: str) -> list[Deferred]:
    """Deferred references in ``module`` waiting for ``name`` to exist."""
    return [d for d in _deferred if d.missing == name and d.module == module]


def forget(item: Deferred) -> None:
    with contextlib.suppress(ValueError):
        _deferred.remove(item)


def all_deferred() -> list[Deferred]:
    return list(_deferred)


def layer_classes() -> list[type]:
    """Every layer class created so far (alive): step timing instruments them."""
    return list(_layer_classes)


def layer_classes_named(name: str) -> list[type]:
    """Known layer classes whose ``__name__`` is ``name`` (a last-resort resolution)."""
    tail = name.rsplit(".", 1)[-1]
    return sorted(
        (cls for cls in _layer_classes if cls.__name__ == tail),
        key=lambda cls: (cls.__module__, cls.__qualname__),
    )


def restore_deferred(items: list[Deferred]) -> None:
    """Replace the deferred references with ``items`` (a snapshot from `all_deferred`)."""
    _deferred[:] = items
