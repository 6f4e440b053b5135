"""Arguments the queue's serializer cannot encode, named in the caller.

kombu encodes a task's arguments when it publishes, before anything is sent;
its error names no argument and no caller.  On that error (and only then)
each argument is encoded again on its own, so the message names the one
that fails: with Celery's default JSON, a Pydantic model, a dataclass or a
set is the usual mistake.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from .._common import fixes
from .._common.errors import QueueEncodingError
from .._offload.process_targets import type_name_of
from .celery_api import encode

__all__ = ["encoding_error"]


def _labels(func: object, args: tuple[Any, ...]) -> list[str]:
    names = [f"#{index + 1}" for index in range(len(args))]
    try:
        bound = inspect.signature(cast(Callable[..., Any], func)).bind_partial(*args)
        names[: len(bound.arguments)] = [repr(name) for name in bound.arguments]
    except (TypeError, ValueError):
        pass
    return [f"positional argument {name}" for name in names]


def encoding_error(
    call: str,
    func: object,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    serializer: str,
    error: BaseException,
) -> QueueEncodingError:
    """The error for a call whose arguments ``serializer`` could not encode."""
    candidates = list(zip(_labels(func, args), args, strict=True))
    candidates += [(f"keyword argument {name!r}", value) for name, value in kwargs.items()]
    for label, value in candidates:
        try:
            encode(value, serializer)
        except Exception as culprit:
            cause = culprit.__cause__ or culprit
            return QueueEncodingError(
                fixes.queue_argument_not_encodable(
                    call, label, type_name_of(value), serializer, f"{cause}"
                )
                + "."
            )
    return QueueEncodingError(
        f"{call} cannot send its arguments to the queue: the {serializer!r} serializer failed "
        f"({type_name_of(error)}: {error}); nothing was sent. Fix: pass plain data."
    )
