"""What differs between the anyio releases the library supports (3.7.1 to the newest).

- ``to_thread.run_sync``: anyio 3 and 4.0 spell "let the awaiting task go on
  cancellation" ``cancellable=``; 4.1 renamed it ``abandon_on_cancel=`` (and
  deprecated the old name).  `run_sync_in_thread` takes the new name and
  passes whichever the installed anyio knows.
- ``from_thread.check_cancelled`` exists from anyio 4.1 on: before it, a worker
  thread cannot learn that its awaiting task was cancelled.
  `check_cancelled_in_thread` says so, naming the version, when it is used.
- ``wait_readable``/``wait_writable`` on any file descriptor exist from 4.7
  on; older releases wait through the socket API (see ``_offload/process_pool``).

Everything else the library uses (``CapacityLimiter`` and its statistics,
``current_default_thread_limiter``, ``lowlevel.RunVar``, cancel scopes, task
groups) behaves the same from 3.7.1 on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from .errors import OffloadError

__all__ = [
    "ANYIO_VERSION",
    "HAS_ABANDON_ON_CANCEL",
    "HAS_CHECK_CANCELLED",
    "check_cancelled_in_thread",
    "run_sync_in_thread",
]

T = TypeVar("T")


def _version() -> tuple[int, ...]:
    from importlib.metadata import version

    parts: list[int] = []
    for part in version("anyio").split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


ANYIO_VERSION: tuple[int, ...] = _version()
#: anyio >= 4.1: ``to_thread.run_sync(..., abandon_on_cancel=)`` (before: ``cancellable=``).
HAS_ABANDON_ON_CANCEL = (
    "abandon_on_cancel" in inspect.signature(anyio.to_thread.run_sync).parameters
)
#: anyio >= 4.1: ``from_thread.check_cancelled()``.
HAS_CHECK_CANCELLED = hasattr(anyio.from_thread, "check_cancelled")


async def _run_sync_cancellable(
    func: Callable[..., T],
    *args: object,
    abandon_on_cancel: bool = False,
    limiter: anyio.CapacityLimiter | None = None,
) -> T:
    """anyio < 4.1: the same call, with the flag under its old name."""
    run_sync: Any = anyio.to_thread.run_sync
    result: T = await run_sync(func, *args, cancellable=abandon_on_cancel, limiter=limiter)
    return result


if TYPE_CHECKING:

    async def run_sync_in_thread(
        func: Callable[..., T],
        *args: object,
        abandon_on_cancel: bool = False,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> T:
        """``anyio.to_thread.run_sync`` with ``abandon_on_cancel`` on every supported anyio."""

else:
    # anyio's own function where it has the keyword (no extra call on the hot path of an
    # offload), a thin translation where it is spelled ``cancellable``.
    run_sync_in_thread = (
        anyio.to_thread.run_sync if HAS_ABANDON_ON_CANCEL else _run_sync_cancellable
    )


def check_cancelled_in_thread() -> None:
    """``anyio.from_thread.check_cancelled()``; a clear error on anyio < 4.1, which lacks it.

    Raises ``RuntimeError`` (anyio's) outside a worker thread, as anyio does.
    """
    if not HAS_CHECK_CANCELLED:
        installed = ".".join(map(str, ANYIO_VERSION))
        raise OffloadError(
            f"check_cancelled() needs anyio >= 4.1 (installed: anyio {installed}): older "
            "releases give a worker thread no way to learn that its awaiting task was "
            "cancelled. Fix: upgrade anyio (pip install 'anyio>=4.1'), or end the loop "
            "on a condition of your own (a threading.Event set by the caller)."
        )
    anyio.from_thread.check_cancelled()
