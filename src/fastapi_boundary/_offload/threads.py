"""Thread offload: named limiters and the one typed way to run blocking code from async code.

Built on ``anyio.to_thread.run_sync``.  What it adds:

- *named limiters*, declared once (``Limiter("db", size=10)``), one
  ``CapacityLimiter`` per event loop, sized at start-up, with statistics, so
  one slow resource cannot take every thread;
- keyword arguments, with ``ParamSpec`` typing (``run_blocking(f, x, key=1)``);
- a nested offload (blocking code in a worker that goes back to the loop and
  offloads again to a limiter it already holds) runs on a reserved token
  instead of waiting for a token its own caller is holding;
- cancellation chosen per limiter or function, and a cooperative check for
  long loops; a time limit per limiter (see ``time_limits``);
- contextvars copied in, and copied back on request.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import types
import weakref
from asyncio import _get_running_loop as _running_asyncio_loop
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, overload

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import RunVar

from .._common import fixes, hooks
from .._common.anyio_compat import check_cancelled_in_thread, run_sync_in_thread
from .._common.declarations import BLOCKING_ATTR, LAYER_LIMITER_ATTR
from .._common.errors import LimiterError, OffloadError
from .._common.modes import Mode, Shape, shape_of
from .._common.sites import Site, caller_site, display_name, site_of
from .offload_checks import (
    ASYNC_CODE,
    BUILTIN,
    BlockingOptions,
    checked_options,
    options_of,
)
from .time_limits import Abandonable, check_timeout, run_with_time_limit

# anyio marks the running async library in sniffio's variable when sniffio is installed
_async_library: contextvars.ContextVar[str | None] | None
try:
    import sniffio
except ImportError:  # pragma: no cover - anyio then asks asyncio, whose state is per thread
    _async_library = None
else:
    _async_library = sniffio.current_async_library_cvar

__all__ = [
    "DEFAULT_LIMITER",
    "BlockingOptions",
    "Limiter",
    "LimiterStatistics",
    "blocking",
    "check_cancelled",
    "limiter_statistics",
    "run_blocking",
]

logger = logging.getLogger("fastapi_boundary")
P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


# Names of the limiters whose tokens the current chain of worker threads holds.
_held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "fastapi_boundary_held_limiters", default=frozenset()
)
_per_loop: RunVar[dict[str, anyio.CapacityLimiter]] = RunVar("fastapi_boundary_limiters")
_declared: dict[str, Limiter] = {}
# (outer, inner) -> where a thread holding ``outer`` first offloaded to ``inner``.
_orders: dict[tuple[str, str], Site] = {}

MAX_THREADS = 10_000
"""The largest size a thread limiter takes: beyond it, a size is a typo, not a plan."""


@dataclass(frozen=True)
class LimiterStatistics:
    """A limiter's state on the current event loop, for metrics."""

    name: str
    total: int
    borrowed: int
    waiting: int


def pool_capacity(engine: object, name: str = "?") -> int:
    """Connections a SQLAlchemy engine's pool can hand out (pool size plus overflow).

    Read by duck typing, so SQLAlchemy is never imported here; accepts an
    ``Engine``, an ``AsyncEngine`` or a ``Pool``.
    """
    sync_engine = getattr(engine, "sync_engine", engine)
    pool = getattr(sync_engine, "pool", sync_engine)
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if not callable(size):
        raise LimiterError(
            f"Limiter({name!r}, pool=...) needs an engine or pool with a fixed size (a "
            f"QueuePool); {type(pool).__name__} has none. Fix: pass size= explicitly."
        )
    capacity = int(size()) + max(int(overflow), 0)
    return check_size(capacity, f"the pool of Limiter({name!r})")


def check_size(size: object, what: str) -> int:
    """A limiter size: a whole number of threads in [1, `MAX_THREADS`] (``what`` names it)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_THREADS:
        raise LimiterError(
            f"{what} must be a whole number of threads >= 1 and <= {MAX_THREADS}; got {size!r}. "
            "Fix: size it from the resource it protects (e.g. the DB pool size)."
        )
    return size


class Limiter:
    """A named cap on the threads that blocking work of one layer or resource may use.

    Declare each once, at module level: ``db = Limiter("db", size=10)``, or
    sized from a SQLAlchemy engine: ``Limiter("db", pool=engine)`` (a larger
    size than the pool is logged as a warning: extra threads would only wait
    for a connection while holding a thread).
    ``"default"`` is anyio's default thread limiter, shared with FastAPI's
    ``def`` endpoints and dependencies.  ``abandon_on_cancel`` lets a
    cancelled caller stop waiting for the thread (which runs on, holding its
    token); ``timeout`` (seconds) is the longest a caller waits for a call,
    token and thread together: then it gets ``OffloadTimeoutError`` and the
    thread is abandoned (see ``time_limits``); ``copy_context_back`` copies
    contextvars set in the worker back to the caller.
    """

    def __init__(
        self,
        name: str,
        size: int | None = None,
        *,
        pool: object = None,
        abandon_on_cancel: bool = False,
        copy_context_back: bool = False,
        timeout: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise LimiterError(f"a limiter needs a non-empty name; got {name!r}")
        if name == "default" and (size is not None or pool is not None):
            given = f"size={size!r}" if size is not None else "pool=..."
            raise LimiterError(
                f"Limiter('default', {given}): the default limiter is anyio's default thread "
                f"limiter, shared with FastAPI's def endpoints and dependencies, and sized "
                f"when the app starts. Fix: install(app, threads=N), or declare a limiter of "
                f"your own: Limiter('name', size=N)."
            )
        if name == "default" and timeout is not None:
            raise LimiterError(
                f"Limiter('default', timeout={timeout!r}): the default limiter is declared by "
                f"the library. Fix: install(app, thread_timeout={timeout!r}), or declare a "
                f"limiter of your own: Limiter('name', size=N, timeout={timeout!r})."
            )
        self.name = name
        self._holding = frozenset({name})
        self._cached: tuple[weakref.ref[Any], anyio.CapacityLimiter] | None = None
        self.pool_capacity = pool_capacity(pool, name) if pool is not None else None
        if size is None:
            size = self.pool_capacity or 40
        self._size = self.declared_size = check_size(size, f"Limiter({name!r}) size")
        self._warn_if_larger_than_pool()
        self._abandon = bool(abandon_on_cancel)
        self._copy_back = bool(copy_context_back)
        self.site: Site = caller_site()
        self._timeout = self.declared_timeout = check_timeout(timeout, f"Limiter({name!r}) timeout")
        self.timeout_site = self.site
        self._plain = True  # no option to combine: the hot path
        self._update()
        previous = _declared.get(name)
        # The same declaration run again (a module reload, a parametrized test) replaces it.
        if previous is not None and name != "default" and previous.site != self.site:
            raise LimiterError(
                f"limiter {name!r} is declared twice: at {previous.site} and at {self.site}. "
                f"Fix: declare it once and import it where it is used."
            )
        _declared[name] = self

    def __repr__(self) -> str:
        limit = f", timeout={self._timeout:g}" if self._timeout is not None else ""
        return f"Limiter({self.name!r}, size={self.size}{limit})"

    def _update(self) -> None:
        self._plain = not (self._abandon or self._copy_back or self._timeout is not None)

    @property
    def abandon_on_cancel(self) -> bool:
        """Whether a cancelled caller leaves at once (its thread runs on, holding its token)."""
        return self._abandon

    @abandon_on_cancel.setter
    def abandon_on_cancel(self, value: bool) -> None:
        self._abandon = bool(value)
        self._update()

    @property
    def copy_context_back(self) -> bool:
        """Whether contextvars the worker sets are copied back to the caller when it returns."""
        return self._copy_back

    @copy_context_back.setter
    def copy_context_back(self, value: bool) -> None:
        self._copy_back = bool(value)
        self._update()

    @property
    def timeout(self) -> float | None:
        """The longest a caller waits for a call, in seconds (``None``: no limit).

        Setting it records where, for the error raised at the limit.
        """
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self.set_timeout(value, caller_site())

    def set_timeout(self, value: float | None, site: Site, what: str = "") -> None:
        """Set the time limit, remembering ``site`` as where it was set (``what`` names it)."""
        self._timeout = check_timeout(value, what or f"Limiter({self.name!r}).timeout")
        self.timeout_site = site
        self._update()

    @property
    def size(self) -> int:
        """Threads this limiter lets run at once (changeable at start-up)."""
        if self.name == "default":
            try:
                return int(anyio.to_thread.current_default_thread_limiter().total_tokens)
            except RuntimeError:  # no event loop: the configured value
                return self._size
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        self._size = check_size(value, f"Limiter({self.name!r}) size")
        self._warn_if_larger_than_pool()
        with contextlib.suppress(RuntimeError):  # no event loop yet: applied on first use
            self._capacity().total_tokens = self._size

    def _warn_if_larger_than_pool(self) -> None:
        if self.pool_capacity is not None and self._size > self.pool_capacity:
            logger.warning(
                "limiter %r allows %d threads but its pool holds %d connections: the extra "
                "threads only wait for a connection while holding a thread (size it to the pool)",
                self.name,
                self._size,
                self.pool_capacity,
            )

    def _capacity(self) -> anyio.CapacityLimiter:
        """This limiter's ``CapacityLimiter`` on the running event loop.

        anyio keeps one per loop in a ``RunVar``, whose lookup costs more than
        the rest of an offload's bookkeeping; on asyncio the last loop's
        limiter is remembered (weakly) and found again by identity.
        """
        loop = _running_asyncio_loop()
        if loop is not None:
            cached = self._cached
            if cached is not None and cached[0]() is loop:
                return cached[1]
            capacity = self._capacity_on_loop()
            self._cached = (weakref.ref(loop), capacity)
            return capacity
        return self._capacity_on_loop()

    def _capacity_on_loop(self) -> anyio.CapacityLimiter:
        if self.name == "default":
            return anyio.to_thread.current_default_thread_limiter()
        try:
            limiters = _per_loop.get()
        except LookupError:
            limiters = {}
            _per_loop.set(limiters)
        capacity = limiters.get(self.name)
        if capacity is None:
            capacity = limiters[self.name] = anyio.CapacityLimiter(self._size)
        return capacity

    def statistics(self) -> LimiterStatistics:
        """Borrowed, waiting and total tokens on the running event loop."""
        stats = self._capacity().statistics()
        return LimiterStatistics(
            self.name, int(stats.total_tokens), stats.borrowed_tokens, stats.tasks_waiting
        )

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the sync ``func(*args, **kwargs)`` in a worker thread under this limiter."""
        if hooks.offload_observer.get() is not None:  # a request the monitor profiles
            return await hooks.observed_offload("thread", self.run(func, *args, **kwargs))
        if (
            type(func) is types.FunctionType
            and not func.__code__.co_flags & ASYNC_CODE
            and not func.__dict__
        ):
            options = None  # a plain, unmarked sync function: decided inline
        else:
            options = checked_options(func)
        held = _held.get()
        if options is None and self._plain and not held:
            # the common case, with nothing to combine: the hot path of every offload
            token = _held.set(self._holding)
            try:
                return await run_sync_in_thread(
                    functools.partial(func, **kwargs) if kwargs else func,
                    *args,
                    limiter=self._capacity(),
                )
            finally:
                _held.reset(token)
        abandon = self._abandon or (options is not None and options.abandon_on_cancel)
        copy_back = self._copy_back or (options is not None and options.copy_context_back)
        if held and self.name not in held:
            _check_order(held, self.name)
        call: Callable[..., T] = functools.partial(func, **kwargs) if kwargs else func
        limit = self._timeout
        if limit is not None:
            return await self._run_with_time_limit(
                func, call, args, held, abandon, copy_back, limit
            )
        abandonable: Abandonable | None = None
        if self.name in held:
            # A caller that is a worker holding one of this limiter's tokens, waiting for us,
            # would deadlock if we waited for a token too: take a reserved one instead.
            capacity = anyio.CapacityLimiter(1)
        elif abandon:
            # The caller may leave when cancelled, the thread may not: the token is taken for
            # the thread and given back when the thread ends, never when the caller leaves.
            abandonable = Abandonable(call, self._capacity())
            await abandonable.acquire()
            call, capacity = abandonable, anyio.CapacityLimiter(1)
        else:
            capacity = self._capacity()
        # Workers see what this task's context holds while it awaits them (anyio runs them
        # in a copy of it), so the names of held limiters travel without a wrapper.
        token = _held.set(self._holding if not held else held | self._holding)
        try:
            if not copy_back:
                return await run_sync_in_thread(
                    call, *args, abandon_on_cancel=abandon, limiter=capacity
                )
            context = _worker_context()
            result: T = await run_sync_in_thread(
                context.run, call, *args, abandon_on_cancel=abandon, limiter=capacity
            )
        finally:
            _held.reset(token)
            if abandonable is not None:
                abandonable.leave()
        _copy_back(context)
        return result

    async def _run_with_time_limit(
        self,
        func: object,
        call: Callable[..., T],
        args: tuple[Any, ...],
        held: frozenset[str],
        abandon: bool,
        copy_back: bool,
        limit: float,
    ) -> T:
        """`Limiter.run` under this limiter's time limit (``time_limits.run_with_time_limit``)."""
        context = _worker_context() if copy_back else None
        token = _held.set(self._holding if not held else held | self._holding)
        try:
            result = await run_with_time_limit(
                call,
                args,
                function=func,
                limiter=self.name,
                capacity=None if self.name in held else self._capacity(),
                abandon=abandon,
                limit=limit,
                declared_at=self.timeout_site,
                context_run=context.run if context is not None else None,
            )
        finally:
            _held.reset(token)
        if context is not None:
            _copy_back(context)
        return result


def _worker_context() -> contextvars.Context:
    """A copy of the caller's context for a worker whose changes are copied back."""
    context = contextvars.copy_context()
    if _async_library is not None:
        # The copy carries the loop's "running asyncio/trio" mark: without clearing
        # it, anyio.run or asyncio.run in the worker would think a loop runs there.
        context.run(_async_library.set, None)
    return context


def _copy_back(context: contextvars.Context) -> None:
    current = contextvars.copy_context()
    for var, value in context.items():
        if var is _held or var is _async_library:
            continue
        if var not in current or current[var] is not value:
            var.set(value)


def _check_order(held: frozenset[str], name: str) -> None:
    """Refuse a nested offload that takes two limiters in the opposite order of one seen before.

    A chain of worker threads holding ``held`` offloads to ``name``.  If some thread
    holding ``name`` once offloaded to one of ``held``, the two chains can each hold
    the token the other waits for: refused here, before anything waits.
    """
    site: Site | None = None
    for outer in held:
        first = _orders.get((name, outer))
        if first is not None:
            raise LimiterError(fixes.offload_limiter_order(outer, name, caller_site(), first) + ".")
        if (outer, name) not in _orders:
            site = site or caller_site()
            _orders[(outer, name)] = site


DEFAULT_LIMITER = Limiter("default")


def resolve_limiter(spec: Limiter | str | None, func: object = None) -> Limiter:
    """What a name or ``Limiter`` means; ``None``: the function's, its layer's, or the default."""
    if isinstance(spec, Limiter):
        return spec
    if spec is None and func is not None:
        options = options_of(func)  # type: ignore[arg-type]
        if options is not None and options.limiter is not None:
            return resolve_limiter(options.limiter)
        owner = getattr(func, "__self__", None)
        layer_limiter = getattr(type(owner), LAYER_LIMITER_ATTR, None) if owner else None
        if layer_limiter is not None:
            return resolve_limiter(layer_limiter)
        return DEFAULT_LIMITER
    if spec is None:
        return DEFAULT_LIMITER
    limiter = _declared.get(spec) if isinstance(spec, str) else None
    if limiter is None:
        known = ", ".join(sorted(_declared)) or "none"
        raise LimiterError(
            f"no limiter named {spec!r} is declared (declared: {known}). "
            f"Fix: declare it once at module level: Limiter({spec!r}, size=N)."
        )
    return limiter


async def run_blocking(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync callable in a worker thread and await its result.

    The limiter is the one ``@blocking(limiter=...)`` declared for ``func``,
    else its layer's (``class Repo(SyncRepository, limiter="db")``), else
    the default one.  Keyword arguments are passed through; mypy checks them
    against ``func``'s signature.

    Raises ``OffloadError`` if ``func`` is an ``async def`` or a coroutine.
    """
    kind = type(func)
    if (
        (
            kind is types.FunctionType
            and not func.__code__.co_flags & ASYNC_CODE
            and not func.__dict__
        )
        or kind in BUILTIN
    ) and (DEFAULT_LIMITER._plain and not _held.get()):
        # The hottest path (a plain unmarked function or a C function, not nested): every
        # call layer between the caller and anyio delays the worker's start (the GIL).
        if hooks.offload_observer.get() is not None:  # a request the monitor profiles
            return await DEFAULT_LIMITER.run(func, *args, **kwargs)
        token = _held.set(DEFAULT_LIMITER._holding)
        try:
            return await run_sync_in_thread(
                functools.partial(func, **kwargs) if kwargs else func,
                *args,
                limiter=DEFAULT_LIMITER._capacity(),
            )
        finally:
            _held.reset(token)
    return await resolve_limiter(None, func).run(func, *args, **kwargs)


@overload
def blocking(func: F, /) -> F: ...
@overload
def blocking(
    *,
    limiter: Limiter | str | None = None,
    abandon_on_cancel: bool = False,
    copy_context_back: bool = False,
) -> Callable[[F], F]: ...
def blocking(
    func: Any = None,
    /,
    *,
    limiter: Limiter | str | None = None,
    abandon_on_cancel: bool = False,
    copy_context_back: bool = False,
) -> Any:
    """Mark a sync callable as blocking: async code must reach it through ``run_blocking``.

    Returns the function itself (no wrapper: calling it from sync code costs
    nothing more).  The options say how ``run_blocking`` runs it.  Raises
    ``OffloadError`` on an ``async def``.
    """
    if limiter is not None and not isinstance(limiter, (Limiter, str)):
        raise OffloadError(
            f"@blocking(limiter=...) takes a Limiter, the name of a declared limiter (a str) "
            f"or None; got {limiter!r} ({type(limiter).__name__}). Fix: "
            f"@blocking(limiter=db), with db = Limiter('db', size=N) declared at module level."
        )
    for option, value in (
        ("abandon_on_cancel", abandon_on_cancel),
        ("copy_context_back", copy_context_back),
    ):
        if not isinstance(value, bool):
            raise OffloadError(f"@blocking({option}=...) takes True or False; got {value!r}.")
    options = BlockingOptions(limiter, abandon_on_cancel, copy_context_back)

    def mark(target: F) -> F:
        raw = target.__func__ if isinstance(target, (staticmethod, classmethod)) else target
        shape = shape_of(raw)
        if shape.shape is Shape.GENERATOR_FUNCTION:
            raise OffloadError(
                fixes.offload_given_generator("@blocking", display_name(raw), site_of(raw)) + "."
            )
        if shape.mode is not Mode.SYNC or shape.shape is Shape.CLASS:
            kind = {
                Shape.CLASS: "a class",
                Shape.COROUTINE_FUNCTION: "an async def",
                Shape.ASYNC_GENERATOR_FUNCTION: "an async generator",
            }.get(shape.shape, f"a {shape.shape.value}")
            raise OffloadError(
                fixes.marker_on_async(f"{display_name(raw)} ({site_of(raw)})", kind) + "."
            )
        setattr(raw, BLOCKING_ATTR, options)
        if hooks.on_marked and raw is target:  # the run-time guard is on: it checks it
            return hooks.marked(target)
        return target

    if func is None:
        return mark
    return mark(func)


def check_cancelled() -> None:
    """In long blocking work, raise if the awaiting task was cancelled; a no-op elsewhere.

    Call it between steps of a loop in a worker thread: threads cannot be
    interrupted, so cancellation reaches them only where they check.
    """
    try:
        check_cancelled_in_thread()  # anyio < 4.1 lacks it: a clear error naming the version
    except RuntimeError:  # not in a worker thread: nothing to check against
        return


def reset_sizes() -> None:
    """Every declared limiter back to its declared size and time limit, nesting orders forgotten.

    The tests' reset, between tests.
    """
    _orders.clear()
    for limiter in _declared.values():
        limiter._size = limiter.declared_size
        limiter.set_timeout(limiter.declared_timeout, limiter.site)


def limiter_statistics() -> list[LimiterStatistics]:
    """Statistics of every declared limiter on the running event loop, for metrics."""
    return [limiter.statistics() for limiter in _declared.values()]
