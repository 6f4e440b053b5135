"""``offload_dependency``: run a sync FastAPI dependency under a named limiter.

FastAPI runs every sync dependency in one shared threadpool.  A dependency
that blocks on a scarce resource (a DB pool checkout) while holding a
thread can starve the requests that would release that resource: the
deadlock of fastapi/fastapi#3205.  Wrapped, its setup waits for a token of
the resource's own limiter (sized like the pool) instead of taking a shared
thread, under the limiter's time limit if it has one, and its teardown never
waits for any token at all, nor has a time limit (it releases what the setup
took: it runs to its end, shielded from cancellation).  A setup its caller
abandoned (a time limit, a cancellation) is torn down when it finishes, in its
own thread: what it took is given back even though no request will use it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar, overload

import anyio
import anyio.to_thread

from .._common import fixes
from .._common.errors import OffloadError
from .._common.modes import Shape, shape_of
from .._common.sites import display_name, site_of
from .threads import Limiter, resolve_limiter

__all__ = ["offload_dependency"]

P = ParamSpec("P")
T = TypeVar("T")


def _typed_signature(dependency: Callable[..., Any]) -> Any:
    from fastapi.dependencies.utils import get_typed_signature

    return get_typed_signature(dependency)


def _copy_identity(wrapper: Any, dependency: Callable[..., Any]) -> None:
    """Let FastAPI read ``dependency``'s parameters from the wrapper, and the audit its result.

    ``__wrapped__`` is deliberately not set: FastAPI would then classify the
    wrapper by the sync function it wraps and run it in the threadpool.
    """
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        with contextlib.suppress(AttributeError):
            setattr(wrapper, name, getattr(dependency, name))
    wrapper.__signature__ = _typed_signature(dependency)
    returned = getattr(dependency, "__annotations__", {}).get("return")
    wrapper.__annotations__ = {"return": returned} if returned is not None else {}


@overload
def offload_dependency(  # type: ignore[overload-overlap]  # generators first, as intended
    dependency: Callable[P, Iterator[T]], *, limiter: Limiter | str
) -> Callable[P, AsyncIterator[T]]: ...
@overload
def offload_dependency(
    dependency: Callable[P, T], *, limiter: Limiter | str
) -> Callable[P, Awaitable[T]]: ...
def offload_dependency(dependency: Callable[..., Any], *, limiter: Limiter | str) -> Any:
    """Wrap a sync dependency (plain or ``yield``) so it runs under ``limiter``.

    Use it where the dependency is declared:
    ``Depends(offload_dependency(get_session, limiter=db))``.  Raises
    ``OffloadError`` for an async dependency (it needs no thread) and
    ``LimiterError`` for an undeclared limiter name.
    """
    shape = shape_of(dependency)
    if shape.shape in (Shape.COROUTINE_FUNCTION, Shape.ASYNC_GENERATOR_FUNCTION):
        raise OffloadError(
            fixes.offload_dependency_given_async(display_name(dependency), site_of(shape.target))
            + "."
        )
    if shape.shape is Shape.NOT_CALLABLE:
        raise OffloadError(f"offload_dependency() needs a callable; got {dependency!r}")
    capacity_of = resolve_limiter(limiter)

    if shape.shape is Shape.GENERATOR_FUNCTION:
        manager = contextlib.contextmanager(dependency)
        qualname = display_name(dependency)

        async def offloaded_generator(**kwargs: Any) -> AsyncIterator[Any]:
            context = manager(**kwargs)
            lock = threading.Lock()
            left = handed = False  # the caller stopped waiting; the setup's value was taken

            def setup() -> Any:
                nonlocal handed
                value = context.__enter__()
                with lock:
                    if not left:
                        handed = True
                        return value
                context.__exit__(None, None, None)  # abandoned: nobody else tears it down
                return None

            setup.__qualname__ = qualname  # what a time limit's error names
            try:
                value = await capacity_of.run(setup)
            except BaseException:
                with lock:
                    left = True
                    orphaned = handed  # set up, but its value never reached the caller
                if orphaned:
                    with anyio.CancelScope(shield=True):
                        await _exit(context, None)
                raise
            try:
                yield value
            except BaseException as error:
                with anyio.CancelScope(shield=True):
                    suppressed = await _exit(context, error)
                if not suppressed:
                    raise
            else:
                with anyio.CancelScope(shield=True):
                    await _exit(context, None)

        _copy_identity(offloaded_generator, dependency)
        return offloaded_generator

    async def offloaded(**kwargs: Any) -> Any:
        return await capacity_of.run(functools.partial(dependency, **kwargs))

    _copy_identity(offloaded, dependency)
    return offloaded


async def _exit(
    context: contextlib.AbstractContextManager[Any], error: BaseException | None
) -> bool:
    """Tear down in a thread of its own: teardown releases resources, so it never waits."""
    arguments = (type(error), error, error.__traceback__) if error else (None, None, None)
    return bool(
        await anyio.to_thread.run_sync(
            context.__exit__, *arguments, limiter=anyio.CapacityLimiter(1)
        )
    )
