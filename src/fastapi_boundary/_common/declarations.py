"""What a declared layer is, and how to find the declaration on any object.

The declaration is one attribute (``__boundary_layer__``) on the class or
function: reading it costs an attribute lookup, and marking adds no wrapper,
so a marked method costs exactly what an unmarked one does.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

from .modes import Mode

__all__ = ["LAYER_ATTR", "LayerInfo", "declared_layer"]

LAYER_ATTR = "__boundary_layer__"


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
