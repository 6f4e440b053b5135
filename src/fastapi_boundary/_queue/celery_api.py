"""The part of Celery, kombu and redis-py the queue wing uses, imported in one place.

Celery ships no type information: what the wing calls on it is typed here
(`CeleryApp`, `CeleryTask`), so the rest of the wing stays fully typed.  A
missing Celery is one clear error naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

try:
    from celery.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        TimeoutError as CeleryTimeoutError,
    )
    from celery.result import AsyncResult as _AsyncResult  # type: ignore[import-untyped, unused-ignore]
    from kombu.exceptions import EncodeError, OperationalError
    from kombu.serialization import dumps
    from kombu.utils.url import maybe_sanitize_url
except ImportError as error:  # pragma: no cover - the extra is installed wherever tests run
    raise ImportError(
        f"fastapi-boundary's worker queue needs Celery ({error}). "
        f"Fix: pip install 'fastapi-boundary[celery]'"
    ) from error

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - a broker other than Redis
    _REDIS_ERRORS = ()

__all__ = [
    "CONNECTION_ERRORS",
    "CeleryApp",
    "CeleryTask",
    "CeleryTimeoutError",
    "EncodeError",
    "async_result",
    "encode",
    "maybe_sanitize_url",
]

#: What a broker or result backend that cannot be reached raises through Celery and kombu.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    ConnectionError,
    *_REDIS_ERRORS,
)


def async_result(task_id: str, app: CeleryApp) -> Any:
    """A task's ``AsyncResult``, bound to the calling thread's result backend."""
    make: Any = _AsyncResult  # celery-types, where installed, wants its own Celery class
    return make(task_id, app=app)


def encode(value: object, serializer: str) -> None:
    """Encode ``value`` as a task argument would be; raises kombu's `EncodeError` if it cannot."""
    dumps(value, serializer=serializer)  # type: ignore[no-untyped-call, unused-ignore]


class CeleryTask(Protocol):
    """What the wing uses of a Celery task."""

    @property
    def name(self) -> str: ...

    @property
    def serializer(self) -> str | None: ...

    def apply_async(self, args: Any = ..., kwargs: Any = ..., **options: Any) -> Any: ...


class CeleryApp(Protocol):
    """What the wing uses of a Celery app."""

    @property
    def conf(self) -> Any: ...

    @property
    def control(self) -> Any: ...

    @property
    def backend(self) -> Any: ...

    def task(self, *args: Any, **options: Any) -> Callable[[Callable[..., Any]], Any]: ...

    def close(self) -> None: ...
