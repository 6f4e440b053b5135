"""``install(app)``: the one call that wires the library into an app.

It validates the thread configuration when called (a bad size or an unknown
limiter name is an error at once, not at the first request), then, in the
app's lifespan (wrapping any lifespan the app already has): sizes the
limiters, runs the audit (``strict`` refuses to start with the report,
``warn`` logs it, ``off`` skips it).  The start-up audit is the latest
moment a forward reference that could not be resolved at import time is
checked.  ``monitor=`` runs the production monitor for the app's life, its
configuration checked at once too.

The audit reads ``[tool.fastapi-boundary]`` (layers, suppressions, the
baseline), and its policy is decided by `start_up_policy`: the monitor, and
an app that is being adopted, must never be the reason an app does not start.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette

from .._audit.adoption import verdict
from .._audit.app_check import check_app
from .._audit.enforcement import CheckMode, explicit_mode
from .._audit.render import render_table
from .._common.config import BoundaryConfig, load_config
from .._common.declarations import INSTALLED_ATTR, MONITOR_ATTR
from .._common.errors import (
    BoundaryError,
    BoundaryViolationsError,
    LimiterError,
    ProcessPoolError,
)
from .._common.modules import loaded_module
from .._common.policy import policy_problem
from .._common.sites import app_name, caller_site
from .._offload.cpu_backend import CpuBackend, check_cpu_backend, use_cpu_backend
from .._offload.threads import DEFAULT_LIMITER, Limiter, check_size, resolve_limiter
from .._offload.time_limits import check_timeout

if TYPE_CHECKING:
    from .monitor import MonitorConfig

__all__ = ["install", "start_up_policy"]

AppT = TypeVar("AppT", bound=Starlette)

logger = logging.getLogger("fastapi_boundary")
_INSTALLED = INSTALLED_ATTR
_MONITOR = MONITOR_ATTR


def _sizes(threads: int | None, limiters: Mapping[str, int] | None) -> dict[Limiter, int]:
    sizes: dict[Limiter, int] = {}
    if threads is not None:
        sizes[DEFAULT_LIMITER] = check_size(threads, "install(threads=...)")
    if limiters is not None:
        if not isinstance(limiters, Mapping):
            raise LimiterError(
                f"install(limiters=...) takes a mapping of limiter name to size; got {limiters!r}"
            )
        for name, size in limiters.items():
            sizes[resolve_limiter(name)] = check_size(size, f"install(limiters={{{name!r}: ...}})")
    return sizes


def _add_disconnect_middleware(app: Any) -> None:
    """Add `CancelOnDisconnect` once, outermost of the app's own middleware."""
    from .disconnects import CancelOnDisconnect

    if any(getattr(entry, "cls", None) is CancelOnDisconnect for entry in app.user_middleware):
        return
    if getattr(app, "middleware_stack", None) is not None:
        raise BoundaryError(
            f"install(cancel_on_disconnect=True) on {app_name(app)}, which has started "
            "serving: its middleware is built already. "
            "Fix: call install(app, ...) before the app starts serving."
        )
    app.add_middleware(CancelOnDisconnect)


def _check_reinstall(app: Any, first: object, monitor_config: MonitorConfig | None) -> None:
    """A second ``install(app, monitor=...)``: refuse a monitor the first call did not set up."""
    if monitor_config is None:
        return
    existing = getattr(app, _MONITOR, None)
    in_force = None if existing is None else existing.config
    if in_force == monitor_config:
        return
    raise BoundaryError(
        f"install(app, monitor=...) on {app_name(app)}, installed already at {first} with "
        f"{'no monitor' if in_force is None else in_force}: a second install is a no-op, so "
        f"this monitor configuration would be ignored. Fix: configure the monitor in the "
        f"first install(app, ...) call, and call install once per app."
    )


def start_up_policy(
    check: CheckMode | None, config: BoundaryConfig, *, monitoring: bool
) -> CheckMode:
    """How the start-up audit reacts: the first of these that is set.

    ``check=``; the chosen check mode (`configure`, ``FASTAPI_BOUNDARY_MODE``);
    the table's ``policy``; then ``warn`` for an app that runs the monitor or is
    being adopted (a baseline, or layers declared in the table), ``strict`` for
    any other.  Monitoring must not depend on passing the audit.
    """
    if check is not None:
        return check
    chosen = explicit_mode()
    if chosen is not None:
        return chosen
    if config.policy is not None:
        return config.policy
    return "warn" if monitoring or config.adopting else "strict"


def install(
    app: AppT,
    *,
    check: CheckMode | None = None,
    threads: int | None = None,
    limiters: Mapping[str, int] | None = None,
    processes: int | CpuBackend | None = None,
    monitor: MonitorConfig | Mapping[str, Any] | bool | None = None,
    config: BoundaryConfig | None = None,
    thread_timeout: float | None = None,
    cancel_on_disconnect: bool = False,
    process_timeout: float | None = None,
) -> AppT:
    """Wire the library into ``app``; returns the app so it can wrap a constructor call.

    ``check`` is how the start-up audit reacts (`start_up_policy`): by
    default the chosen check mode (``FASTAPI_BOUNDARY_MODE``), else the
    table's ``policy``, else ``warn`` with the monitor or a baseline and
    ``strict`` otherwise.  ``config`` is the ``[tool.fastapi-boundary]``
    table (default: `load_config` from the working folder); its layers,
    suppressions and baseline apply to the start-up audit.
    ``threads`` sizes the default thread limiter (shared with FastAPI's
    ``def`` endpoints and dependencies; anyio's default is 40); ``limiters``
    sizes declared limiters by name.  ``processes`` sizes the worker pool of
    ``run_cpu`` and starts it with the app; either way the pool is shut down
    when the app stops.  It may instead be a `CpuBackend` (a `ProcessPool`,
    a worker queue): ``run_cpu`` sends its calls there for the app's life,
    and its ``shutdown()`` runs when the app stops.  ``monitor`` runs the
    production monitor for the app's life: a `MonitorConfig`, a mapping of
    its fields, or ``True`` for the defaults (no middleware: requests pay nothing for it).
    ``thread_timeout`` is the default limiter's time limit in seconds (see
    docs/timeouts.md; declared limiters take ``Limiter(..., timeout=...)``).
    ``cancel_on_disconnect`` cancels a request's work when its client goes
    away (`CancelOnDisconnect` middleware; off, requests pay nothing for it).
    ``process_timeout`` is the time limit of ``run_cpu``'s default pool in
    seconds (default 60; see docs/offloading.md), named in its errors.
    Installing twice is a no-op (but ``cancel_on_disconnect=True`` adds its
    middleware once), unless the second call asks for a monitor configured
    differently: that raises `BoundaryError` naming the first call.
    """
    router = getattr(app, "router", None)
    if router is None or not hasattr(router, "lifespan_context"):
        raise BoundaryError(
            f"install() needs a FastAPI or Starlette app; got {type(app).__name__}. "
            "Fix: call install(app) on the object your ASGI server serves."
        )
    if config is None:
        config = load_config()  # a mistake in the table is an error now, not at start-up
    problem = policy_problem(
        check, "install(check=...)", "install(app, check='strict'), 'warn' or 'off'."
    )
    if check is not None and problem is not None:
        raise BoundaryError(problem)
    sizes = _sizes(threads, limiters)
    installed_at = caller_site()
    thread_limit = check_timeout(thread_timeout, "install(thread_timeout=...)")
    process_limit = check_timeout(process_timeout, "install(process_timeout=...)", ProcessPoolError)
    if not isinstance(cancel_on_disconnect, bool):
        raise BoundaryError(
            f"install(cancel_on_disconnect=...) takes True or False; got "
            f"{cancel_on_disconnect!r}. Fix: install(app, cancel_on_disconnect=True)."
        )
    backend: CpuBackend | None = None
    pool_size: int | None = None
    if isinstance(processes, int) and not isinstance(processes, bool):
        from .._offload.process_pool import check_size

        pool_size = check_size(processes)  # an error now; resized when the app starts
    elif processes is not None:
        backend = check_cpu_backend(processes, "install(processes=...)")
    monitor_config = None
    if monitor is not None and monitor is not False:
        from .monitor import MonitorConfig  # imported by apps that use it only

        monitor_config = MonitorConfig.coerce(monitor)  # an error now, not at start-up
    if monitor_config is not None and getattr(app, "middleware_stack", None) is not None:
        raise BoundaryError(
            f"install(monitor=...) on {app_name(app)}, which has started serving: the monitor "
            "starts with the app's lifespan, which has run already. "
            "Fix: call install(app, ...) before the app starts serving."
        )
    if cancel_on_disconnect:
        _add_disconnect_middleware(app)
    first = getattr(app, _INSTALLED, None)
    if first:  # installed already: the same monitor again is a no-op, another one an error
        _check_reinstall(app, first, monitor_config)
        return app
    mode = start_up_policy(check, config, monitoring=monitor_config is not None)
    start_up_config = config
    monitor_ = None
    if monitor_config is not None:
        from .monitor import Monitor

        monitor_ = Monitor(monitor_config)
    inner: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(lifespan_app: Any) -> AsyncIterator[Any]:
        for limiter, size in sizes.items():
            limiter.size = size
        if thread_timeout is not None:
            DEFAULT_LIMITER.set_timeout(thread_limit, installed_at, "install(thread_timeout=...)")
        if mode != "off":
            report = check_app(app, config=start_up_config)
            if verdict(report, "strict"):
                if mode == "strict":
                    raise BoundaryViolationsError(
                        f"{app_name(app)} has boundary violations; refusing to start:\n"
                        + render_table(report, quiet=True),
                        report.violations,
                    )
                logger.warning(
                    "boundary violations found at start-up:\n%s", render_table(report, quiet=True)
                )
        if process_limit is not None:
            from .._offload.process_pool import default_process_pool

            default_process_pool().set_timeout(
                process_limit, installed_at, "install(process_timeout=...)"
            )
        previous_backend: CpuBackend | None = None
        if backend is not None:
            previous_backend = use_cpu_backend(backend)
            start = getattr(backend, "start", None)  # a ProcessPool: its workers start now
            if start is not None and inspect.iscoroutinefunction(start):
                await start()
        elif pool_size is not None:
            from .._offload.process_pool import default_process_pool

            default_process_pool().resize(pool_size)
            await default_process_pool().start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                if monitor_ is not None:  # on for the app's life: no per-request layer
                    await stack.enter_async_context(monitor_.lifetime(app))
                state = await stack.enter_async_context(inner(lifespan_app))
                yield state
        finally:
            if backend is not None:
                try:
                    await backend.shutdown()
                finally:
                    use_cpu_backend(previous_backend)
            # the pool exists only if something imported it: never import it just to stop it
            processes_module = loaded_module("fastapi_boundary._offload.process_pool")
            if processes_module is not None:
                await processes_module.default_process_pool().shutdown()

    router.lifespan_context = lifespan
    setattr(app, _INSTALLED, installed_at)  # where, for a second install's error
    setattr(app, _MONITOR, monitor_)
    return app
