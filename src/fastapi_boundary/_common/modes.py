"""Modes, and how any callable FastAPI accepts is classified into one.

FastAPI decides once per endpoint or dependency whether to await it on the
event loop or to run it in the threadpool.  The audit must agree with that
decision exactly, so the classification below mirrors FastAPI's own rules:
``functools.partial`` is peeled, ``functools.wraps`` chains are unwrapped, a
class is called in the threadpool, and an instance is classified by its
``__call__``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 13):  # pragma: no cover - version dependent
    from inspect import iscoroutinefunction
else:  # pragma: no cover - version dependent
    # FastAPI uses asyncio's variant before 3.13: it honours the legacy
    # ``_is_coroutine`` marker that inspect's variant ignores.
    from asyncio import iscoroutinefunction

__all__ = ["CallableShape", "Mode", "Shape", "shape_of"]


class Mode(enum.Enum):
    """Whether a layer, endpoint or dependency runs on the event loop or in a thread."""

    SYNC = "sync"
    ASYNC = "async"

    @classmethod
    def parse(cls, value: Mode | str) -> Mode:
        """Accept ``Mode.SYNC``, ``"sync"``, ``Mode.ASYNC`` or ``"async"``."""
        if isinstance(value, Mode):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        raise ValueError(f"mode must be 'sync' or 'async' (or a Mode), got {value!r}")

    def __str__(self) -> str:
        return self.value

    @property
    def other(self) -> Mode:
        """The opposite mode."""
        return Mode.ASYNC if self is Mode.SYNC else Mode.SYNC


class Shape(enum.Enum):
    """What kind of callable an object is, as FastAPI would run it."""

    FUNCTION = "function"
    COROUTINE_FUNCTION = "coroutine function"
    GENERATOR_FUNCTION = "generator function"
    ASYNC_GENERATOR_FUNCTION = "async generator function"
    CLASS = "class"
    NOT_CALLABLE = "not callable"

    @property
    def mode(self) -> Mode | None:
        """The mode FastAPI runs this shape in (``None`` when it cannot run it)."""
        return _SHAPE_MODES[self]


_SHAPE_MODES: dict[Shape, Mode | None] = {
    Shape.FUNCTION: Mode.SYNC,
    Shape.COROUTINE_FUNCTION: Mode.ASYNC,
    Shape.GENERATOR_FUNCTION: Mode.SYNC,
    Shape.ASYNC_GENERATOR_FUNCTION: Mode.ASYNC,
    Shape.CLASS: Mode.SYNC,
    Shape.NOT_CALLABLE: None,
}


@dataclass(frozen=True)
class CallableShape:
    """The classification of one callable.

    ``target`` is the object whose definition the shape comes from (the
    unwrapped function, the class, or the ``__call__`` of an instance): it is
    what messages point at.  ``via_call`` tells that an instance was
    classified through its ``__call__`` method.
    """

    shape: Shape
    target: object
    via_call: bool = False

    @property
    def mode(self) -> Mode | None:
        return self.shape.mode


def _impartial(obj: Any) -> Any:
    while isinstance(obj, functools.partial):
        obj = obj.func
    return obj


def _unwrapped(obj: Any) -> Any:
    try:
        return inspect.unwrap(_impartial(obj))
    except ValueError:  # a cycle in __wrapped__: use the outermost object
        return _impartial(obj)


def _predicate_shape(
    candidates: tuple[Any, ...], *, routines_only: bool
) -> tuple[Shape, Any] | None:
    """Apply FastAPI's predicates in FastAPI's order: async generator, generator, coroutine."""
    for candidate in candidates:
        if inspect.isasyncgenfunction(candidate):
            return Shape.ASYNC_GENERATOR_FUNCTION, candidate
    for candidate in candidates:
        if inspect.isgeneratorfunction(candidate):
            return Shape.GENERATOR_FUNCTION, candidate
    for candidate in candidates:
        if (not routines_only or inspect.isroutine(candidate)) and iscoroutinefunction(candidate):
            return Shape.COROUTINE_FUNCTION, candidate
    return None


Predicates = Callable[[Any], tuple[bool, bool, bool]]


def _fastapi_predicates() -> Predicates | None:
    """FastAPI's own classifiers (async generator, generator, coroutine), if reachable.

    They are private and have moved between releases (module functions in
    recent FastAPI, ``Dependant`` properties before), so both are tried and
    the mirror in this module is the fallback.
    """
    try:
        from fastapi.dependencies import models
    except ImportError:  # pragma: no cover - FastAPI is a dependency
        return None
    functions = [
        getattr(models, name, None)
        for name in ("_is_async_gen_callable", "_is_gen_callable", "_is_coroutine_callable")
    ]
    if all(callable(function) for function in functions):
        async_gen, gen, coroutine = functions
        return lambda call: (async_gen(call), gen(call), coroutine(call))  # type: ignore[misc]
    dependant = getattr(models, "Dependant", None)
    names = ("is_async_gen_callable", "is_gen_callable", "is_coroutine_callable")
    if dependant is not None and all(hasattr(dependant, name) for name in names):

        def by_dependant(call: Any) -> tuple[bool, bool, bool]:
            instance = dependant(call=call)
            return tuple(bool(getattr(instance, name)) for name in names)  # type: ignore[return-value]

        return by_dependant
    return None  # pragma: no cover - depends on the FastAPI release


_PREDICATES = _fastapi_predicates()


def _fastapi_shape(call: Any, inner: Any) -> Shape | None:
    """The shape FastAPI itself gives ``call``; ``None`` when it cannot be asked."""
    if _PREDICATES is None:
        return None
    try:
        async_gen, gen, coroutine = _PREDICATES(call)
    except Exception:  # a private API that changed shape: fall back to the mirror
        return None
    if async_gen:
        return Shape.ASYNC_GENERATOR_FUNCTION
    if gen:
        return Shape.GENERATOR_FUNCTION
    if coroutine:
        return Shape.COROUTINE_FUNCTION
    return Shape.CLASS if inspect.isclass(inner) else Shape.FUNCTION


def shape_of(call: Callable[..., Any] | object) -> CallableShape:
    """Classify ``call`` exactly as FastAPI would before running it.

    FastAPI's own classifiers decide when they can be reached; otherwise a
    mirror of them does: each predicate is tried on the object with
    partials peeled and on its ``__wrapped__`` chain (so a plain ``def``
    wrapper made with ``functools.wraps`` around an ``async def`` counts as
    async), a class is called in the threadpool, and an instance is
    classified by its ``__call__``.
    """
    if not callable(call):
        return CallableShape(Shape.NOT_CALLABLE, call)
    inner = _unwrapped(call)
    decided = _fastapi_shape(call, inner)
    if decided is None:
        return _mirror_shape(call)
    if inspect.isroutine(inner) or inspect.isclass(inner):
        return CallableShape(decided, inner)
    dunder = getattr(type(inner), "__call__", None)  # noqa: B004 - an instance
    return CallableShape(decided, _unwrapped(dunder) if dunder is not None else inner, True)


def _mirror_shape(call: Callable[..., Any] | object) -> CallableShape:
    outer = _impartial(call)
    inner = _unwrapped(call)
    found = _predicate_shape((outer, inner), routines_only=True)
    if found is not None:
        return CallableShape(found[0], found[1])
    if inspect.isclass(inner):
        return CallableShape(Shape.CLASS, inner)
    if inspect.isroutine(outer) or inspect.isroutine(inner):
        return CallableShape(Shape.FUNCTION, inner if inspect.isroutine(inner) else outer)
    dunder = getattr(outer, "__call__", None)  # noqa: B004 - mirrors FastAPI
    if dunder is None:
        return CallableShape(Shape.NOT_CALLABLE, inner)
    inner_dunder = getattr(inner, "__call__", dunder)  # noqa: B004
    candidates = (
        _impartial(dunder),
        _unwrapped(dunder),
        _impartial(inner_dunder),
        _unwrapped(inner_dunder),
    )
    found = _predicate_shape(candidates, routines_only=False)
    if found is not None:
        return CallableShape(found[0], found[1], via_call=True)
    return CallableShape(Shape.FUNCTION, _unwrapped(dunder), via_call=True)
