"""``install(app)``: the one call that wires the library into an app.

For now it runs the audit when the app starts (inside its lifespan, wrapping
any lifespan the app already has): ``strict`` refuses to start with the
report, ``warn`` logs it, ``off`` skips it.  This is the latest moment a
forward reference that could not be resolved at import time is checked.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._config import CheckMode, current_mode
from ._errors import BoundaryError, BoundaryViolationsError
from ._render import render_table
from ._sites import app_name
from .routing import check_app

__all__ = ["install"]

logger = logging.getLogger("fastapi_boundary")
_INSTALLED = "__boundary_installed__"


def install(app: Any, *, check: CheckMode | None = None) -> Any:
    """Check ``app`` at start-up; returns the app so it can wrap a constructor call.

    ``check`` defaults to the configured mode (``FASTAPI_BOUNDARY_MODE``).
    Installing twice is a no-op.
    """
    router = getattr(app, "router", None)
    if router is None or not hasattr(router, "lifespan_context"):
        raise BoundaryError(
            f"install() needs a FastAPI or Starlette app; got {type(app).__name__}. "
            "Fix: call install(app) on the object your ASGI server serves."
        )
    mode = check or current_mode()
    if mode not in ("strict", "warn", "off"):
        raise BoundaryError(f"install(check=...) must be 'strict', 'warn' or 'off'; got {mode!r}")
    if getattr(app, _INSTALLED, False):
        return app
    inner: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(lifespan_app: Any) -> AsyncIterator[Any]:
        if mode != "off":
            report = check_app(app)
            if report.violations:
                if mode == "strict":
                    raise BoundaryViolationsError(
                        f"{app_name(app)} has boundary violations; refusing to start:\n"
                        + render_table(report),
                        report.violations,
                    )
                logger.warning("boundary violations found at start-up:\n%s", render_table(report))
        async with inner(lifespan_app) as state:
            yield state

    router.lifespan_context = lifespan
    setattr(app, _INSTALLED, True)
    return app
