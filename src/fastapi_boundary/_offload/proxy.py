"""``to_async(service)``: the sanctioned way for async code to use a sync layer (R4).

The proxy's public methods are awaitables that run the sync method in a
worker thread, under the layer's limiter.  Everything below the proxy stays
sync: one async boundary per request.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from .._common import fixes
from .._common.declarations import declared_layer
from .._common.errors import OffloadError
from .._common.modes import Mode, Shape, shape_of
from .._common.sites import display_name, site_of
from .threads import Limiter, resolve_limiter

__all__ = ["AsyncProxy", "to_async"]

S = TypeVar("S")


class AsyncProxy(Generic[S]):
    """An async facade over a sync object: ``await proxy.method(...)`` runs it in a thread.

    Attribute reads that are not methods pass through unchanged.  Without
    the mypy plugin the methods are typed loosely (``Any``); with it
    (``plugins = fastapi_boundary.mypy``) each has the sync method's
    parameters and returns a coroutine of its result, since a proxy typed
    from its target's methods is not expressible in Python's type system.
    """

    __boundary_offload__ = True  # R3: a proxy is an explicit boundary, not a mixed layer

    def __init__(self, target: S, limiter: Limiter | None) -> None:
        self._target = target
        self._limiter = limiter

    def __getattr__(self, name: str) -> Any:
        """Called once per method name: the offloading method is then kept on the proxy."""
        if name.startswith("_"):
            raise AttributeError(
                f"{type(self._target).__name__} proxy has no public attribute {name!r}: "
                "to_async() exposes public methods only"
            )
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute
        shape = shape_of(attribute)
        if shape.shape in (Shape.COROUTINE_FUNCTION, Shape.ASYNC_GENERATOR_FUNCTION):
            message = fixes.proxy_given_async_method(display_name(attribute), site_of(shape.target))
            raise OffloadError(message + ".")
        if shape.shape is Shape.GENERATOR_FUNCTION:
            message = fixes.offload_given_generator(
                "to_async()", display_name(attribute), site_of(shape.target)
            )
            raise OffloadError(message + ".")
        limiter = self._limiter or resolve_limiter(None, attribute)
        method: Callable[..., Awaitable[Any]] = functools.partial(limiter.run, attribute)
        self.__dict__[name] = method  # later lookups find it without calling __getattr__
        return method

    def __repr__(self) -> str:
        return f"to_async({self._target!r})"

    @property
    def wrapped(self) -> S:
        """The sync object behind the proxy."""
        return self._target


def to_async(service: S, *, limiter: Limiter | str | None = None) -> AsyncProxy[S]:
    """Wrap a sync service (or repository, or any sync object) for use from async code.

    ``limiter`` defaults to the layer's (``class S(SyncService, limiter="db")``),
    else the default thread limiter.  Raises ``OffloadError`` for an async
    layer, a class instead of an instance, or a function.
    """
    if inspect.isclass(service):
        raise OffloadError(
            f"to_async() takes an instance; got the class {display_name(service)} "
            f"({site_of(service)}). Fix: to_async({service.__name__}(...))."
        )
    if inspect.isroutine(service) or isinstance(service, functools.partial):
        raise OffloadError(
            f"to_async() wraps objects with methods; {display_name(service)} is a function. "
            f"Fix: await run_blocking({display_name(service)}, ...)."
        )
    declared = declared_layer(service)
    if declared is not None and declared[0].mode is Mode.ASYNC:
        info, owner = declared
        raise OffloadError(
            fixes.to_async_given_async_layer(display_name(owner), site_of(owner), info.role) + "."
        )
    return AsyncProxy(service, resolve_limiter(limiter) if limiter is not None else None)
