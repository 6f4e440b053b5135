"""What a thread offload accepts, and what ``@blocking`` declared about a function.

An offload refuses what a thread cannot run (an ``async def``, an async
generator, a generator function, a call's result) before it takes a thread,
with a message naming the function and where it is defined.  The common cases
are decided by type and by reading the function's ``__dict__``, on the hot
path of every offload.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._common import fixes
from .._common.declarations import BLOCKING_ATTR
from .._common.errors import OffloadError
from .._common.modes import Shape, shape_of
from .._common.sites import display_name, site_of

if TYPE_CHECKING:
    from .threads import Limiter

__all__ = [
    "ASYNC_CODE",
    "BUILTIN",
    "BlockingOptions",
    "check_offloadable",
    "checked_options",
    "options_of",
]


@dataclass(frozen=True)
class BlockingOptions:
    """What ``@blocking(...)`` declared about a function."""

    limiter: Limiter | str | None = None
    abandon_on_cancel: bool = False
    copy_context_back: bool = False


def options_of(func: Callable[..., Any]) -> BlockingOptions | None:
    """The ``@blocking`` options of a function or bound method, if it has any."""
    target = getattr(func, "__func__", func)  # bound methods carry their function's marks
    options = getattr(target, BLOCKING_ATTR, None)
    return options if isinstance(options, BlockingOptions) else None


# what an offload refuses: async code, and generators (only the generator object would be
# created in the thread; its body would run on the loop as the caller iterates it)
ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_GENERATOR
BUILTIN = (types.BuiltinFunctionType, types.BuiltinMethodType)  # C functions are never async


def checked_options(func: object) -> BlockingOptions | None:
    """Refuse what cannot be offloaded; return the function's ``@blocking`` options.

    The common cases (a plain function, a bound method, a C function) are
    decided by type and by reading the function's ``__dict__``: ``getattr``
    with a default on a missing attribute costs an exception each time.
    """
    kind = type(func)
    if kind is types.FunctionType:  # the hottest case first, with the fewest lookups
        if func.__code__.co_flags & ASYNC_CODE:  # type: ignore[attr-defined]
            check_offloadable(func)
        marks = func.__dict__
        if not marks:
            return None
        if "__wrapped__" in marks:
            check_offloadable(func)
        found = marks.get(BLOCKING_ATTR)
        return found if isinstance(found, BlockingOptions) else None
    if kind in BUILTIN:
        return None  # time.sleep, os.stat ...: sync, and they carry no options
    target = func.__func__ if kind is types.MethodType else func  # type: ignore[attr-defined]
    if type(target) is not types.FunctionType:
        check_offloadable(func)
        return options_of(func)  # type: ignore[arg-type]
    attributes = target.__dict__
    if target.__code__.co_flags & ASYNC_CODE or "__wrapped__" in attributes:
        check_offloadable(func)
    options = attributes.get(BLOCKING_ATTR)
    return options if isinstance(options, BlockingOptions) else None


def check_offloadable(func: object) -> None:
    """Raise ``OffloadError`` naming what ``func`` is, if a thread cannot run it."""
    if inspect.iscoroutine(func) or inspect.isawaitable(func):
        given = f"{type(func).__name__} {func!r}"
        raise OffloadError(fixes.offload_given_call_result("run_blocking", given) + ".")
    if not callable(func):
        raise OffloadError(f"run_blocking() needs a sync callable; got {type(func).__name__}")
    shape = shape_of(func)
    if shape.shape in (Shape.COROUTINE_FUNCTION, Shape.ASYNC_GENERATOR_FUNCTION):
        kind = "an async def" if shape.shape is Shape.COROUTINE_FUNCTION else "an async generator"
        raise OffloadError(
            fixes.offload_given_async(
                "run_blocking", display_name(func), site_of(shape.target), kind
            )
            + "."
        )
    if shape.shape is Shape.GENERATOR_FUNCTION:
        raise OffloadError(
            fixes.offload_given_generator(
                "run_blocking()", display_name(func), site_of(shape.target)
            )
            + "."
        )
