"""How import-time checks react: ``strict``, ``warn`` or ``off`` (`configure`).

Read from the ``FASTAPI_BOUNDARY_MODE`` environment variable when first
needed, or set with `configure`.  ``warn`` lets a team adopt the
library on an existing code base before it fixes every violation.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from types import FrameType

import fastapi
import starlette

from .._common.errors import BoundaryError, BoundaryWarning
from .._common.policy import Policy, policy_problem
from .._common.violations import Violation

__all__ = ["CheckMode", "configure", "current_mode", "enforce", "explicit_mode", "reset_mode"]

CheckMode = Policy
ENV_VAR = "FASTAPI_BOUNDARY_MODE"
_mode: CheckMode | None = None


_ENV_FIX = f"set {ENV_VAR}=strict (default), warn or off."
_CONFIGURE_FIX = "configure('strict'), 'warn' or 'off'."


def _parse(value: str, source: str, fix: str = _ENV_FIX) -> CheckMode:
    normalised = value.strip().lower()
    problem = policy_problem(normalised, source, fix)
    if problem is not None:
        raise BoundaryError(problem.replace(repr(normalised), repr(value), 1))
    return normalised  # type: ignore[return-value]


def current_mode() -> CheckMode:
    """The mode in force: the last `configure` call, else the environment."""
    global _mode
    if _mode is None:
        _mode = _parse(os.environ.get(ENV_VAR, "strict"), ENV_VAR)
    return _mode


def explicit_mode() -> CheckMode | None:
    """The mode if one was chosen (`configure` or ``FASTAPI_BOUNDARY_MODE``); else ``None``.

    ``install`` follows a chosen mode, and otherwise decides its own default.
    """
    if _mode is not None:
        return _mode
    value = os.environ.get(ENV_VAR)
    return _parse(value, ENV_VAR) if value is not None and value.strip() else None


def configure(mode: CheckMode) -> CheckMode:
    """Set how import-time checks react and return the previous mode.

    Call it before the modules that declare layers are imported: checks run
    when classes are created and routes are added.
    """
    global _mode
    given: object = mode  # typed as a policy, but called from untyped code too
    if not isinstance(given, str):  # None, a bool ...: the policy message, not AttributeError
        problem = policy_problem(given, "configure(mode=...)", _CONFIGURE_FIX)
        raise BoundaryError(problem or f"configure(mode=...) takes a string; got {given!r}")
    previous = current_mode()
    _mode = _parse(mode, "configure(mode=...)", _CONFIGURE_FIX)
    return previous


def reset_mode() -> None:
    """Forget `configure`: the next check reads the environment again (tests' reset)."""
    global _mode
    _mode = None


_LIBRARY_DIRS = tuple(
    os.path.dirname(module.__file__ or "") + os.sep
    for module in (sys.modules[__name__.partition(".")[0]], fastapi, starlette)
)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the user's line, not at our frames."""
    frame: FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
        level += 1
    return level


def enforce(error_type: type[BoundaryError], violations: Sequence[Violation]) -> None:
    """Raise (strict), warn (warn) or ignore (off) the violations found.

    A warning is attributed to the first frame outside this package,
    FastAPI and Starlette: the class statement or the route decorator.
    """
    if not violations:
        return
    mode = current_mode()
    if mode == "off":
        return
    error = error_type.from_violations(violations)
    if mode == "strict":
        raise error
    warnings.warn(str(error), BoundaryWarning, stacklevel=_user_stacklevel())
