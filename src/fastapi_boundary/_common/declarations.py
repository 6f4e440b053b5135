"""Declarations: every ``__boundary_*__`` attribute the library sets, and what a layer is.

A declaration is one attribute on the class or function: reading it costs an
attribute lookup, and marking adds no wrapper, so a marked method costs exactly
what an unmarked one does.  Every attribute name lives here, so a reader (or a
grep) finds what the library writes onto user objects in one place.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Final

from .modes import Mode

__all__ = [
    "BASE_ATTR",
    "BLOCKING_ATTR",
    "CPU_BOUND_ATTR",
    "INSTALLED_ATTR",
    "LAYER_ATTR",
    "LAYER_LIMITER_ATTR",
    "LOOP_HOOK_ATTR",
    "MONITOR_ATTR",
    "OFFLOAD_ATTR",
    "ORIGINAL_ATTR",
    "PURE_ATTR",
    "SUPPRESS_ATTR",
    "TIMED_ATTR",
    "LayerInfo",
    "declared_layer",
]

#: On a layer class or ``@layer`` function: its `LayerInfo`.
LAYER_ATTR: Final = "__boundary_layer__"
#: On the library's own base classes (``SyncRepository`` ...): not a user layer.
BASE_ATTR: Final = "__boundary_base__"
#: On a class or function: the rules suppressed for it, with their reasons (``@suppress_rule``).
SUPPRESS_ATTR: Final = "__boundary_suppress__"
#: On a ``@pure`` method: exempt from R2 (a cheap sync helper on an async layer).
PURE_ATTR: Final = "__boundary_pure__"
#: On a class that is an explicit boundary (the ``to_async`` proxy): exempt from R3.
OFFLOAD_ATTR: Final = "__boundary_offload__"
#: On a ``@blocking`` callable: its options (limiter ...).
BLOCKING_ATTR: Final = "__boundary_blocking__"
#: On a sync layer class declared with ``limiter=``: the limiter its proxy uses.
LAYER_LIMITER_ATTR: Final = "__boundary_limiter__"
#: On a ``@cpu_bound`` function: it runs in a worker process.
CPU_BOUND_ATTR: Final = "__boundary_cpu_bound__"
#: On a wrapper the guard installed: the callable it wraps (restored on disable).
ORIGINAL_ATTR: Final = "__boundary_original__"
#: On a layer method wrapped by step timing.
TIMED_ATTR: Final = "__boundary_timed__"
#: On the loop-factory hook the guard installed (never installed twice).
LOOP_HOOK_ATTR: Final = "__boundary_loop_hook__"
#: On an app ``install`` wired (never wired twice).
INSTALLED_ATTR: Final = "__boundary_installed__"
#: On an app: the production monitor ``install`` started.
MONITOR_ATTR: Final = "__boundary_monitor__"


@dataclass(frozen=True)
class LayerInfo:
    """A layer's declared mode and kind (``repository``, ``service``, ``driver`` ...).

    ``advice`` is set for known drivers: what they are and their counterpart.
    """

    mode: Mode
    kind: str
    advice: str | None = None

    @property
    def role(self) -> str:
        return f"{self.mode.value} {self.kind}"


def _peel(obj: object) -> object:
    while isinstance(obj, functools.partial):
        obj = obj.func
    try:
        return inspect.unwrap(obj) if callable(obj) else obj
    except ValueError:
        return obj


def declared_layer(obj: object) -> tuple[LayerInfo, object] | None:
    """Return the layer declaration of ``obj`` and the object that carries it.

    Works for layer classes, their instances (callable-instance
    dependencies), ``@layer`` functions, partials and ``functools.wraps``
    wrappers of those.  ``None`` when ``obj`` is not a declared layer.
    """
    info = getattr(obj, LAYER_ATTR, None)
    if info is None and not isinstance(obj, functools.partial) and not hasattr(obj, "__wrapped__"):
        return None  # the common case, without unwrapping anything
    for candidate in (obj, _peel(obj)):
        info = getattr(candidate, LAYER_ATTR, None)
        if isinstance(info, LayerInfo):
            owner = (
                candidate
                if inspect.isclass(candidate) or inspect.isroutine(candidate)
                else type(candidate)
            )
            return info, owner
    return None
