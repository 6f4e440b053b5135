"""The exception hierarchy. Every error the library raises derives from one base.

Each also subclasses the matching builtin, so existing ``except TypeError``
or ``except RuntimeError`` clauses keep working::

    BoundaryError
     +-- LayerDeclarationError (TypeError)     a marker used on the wrong object
     +-- ModeMismatchError (TypeError)         R2: a public callable of the other mode
     +-- LayerDependencyError (TypeError)      R3: a layer depends on the other mode
     +-- RouteModeError (TypeError)            a route mixes modes (endpoint or tree)
     +-- BoundaryViolationsError (RuntimeError)  the start-up check found violations
     +-- AppLoadError (ImportError)            the CLI could not load the app
     +-- OffloadError (TypeError)              an offload given the wrong kind of callable
     +-- LimiterError (ValueError)             a limiter misdeclared or misconfigured
"""

from __future__ import annotations

from collections.abc import Iterable

from ._violations import Violation

__all__ = [
    "AppLoadError",
    "BoundaryError",
    "BoundaryViolationsError",
    "BoundaryWarning",
    "LayerDeclarationError",
    "LimiterError",
    "OffloadError",
    "LayerDependencyError",
    "ModeMismatchError",
    "RouteModeError",
]


class BoundaryError(Exception):
    """Base of every error raised by fastapi-boundary.

    ``violations`` holds the structured `Violation` records behind the
    message (empty for usage errors that are not rule violations).
    """

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.violations: tuple[Violation, ...] = tuple(violations)

    @classmethod
    def from_violations(cls, violations: Iterable[Violation]) -> BoundaryError:
        found = tuple(violations)
        return cls("\n".join(v.message for v in found), found)


class LayerDeclarationError(BoundaryError, TypeError):
    """A layer marker or base class was used on something it cannot apply to."""


class ModeMismatchError(BoundaryError, TypeError):
    """R2: a public callable of a layer does not match the layer's declared mode."""


class LayerDependencyError(BoundaryError, TypeError):
    """R3: a layer depends on a layer of the other mode."""


class RouteModeError(BoundaryError, TypeError):
    """An endpoint added to a declared router mixes modes (endpoint or dependencies)."""


class BoundaryViolationsError(BoundaryError, RuntimeError):
    """The start-up check of an app found violations (raised by ``install``)."""


class AppLoadError(BoundaryError, ImportError):
    """The CLI could not import or find the application it was pointed at."""


class OffloadError(BoundaryError, TypeError):
    """An offload was asked to run something it cannot (an ``async def``, a coroutine ...)."""


class LimiterError(BoundaryError, ValueError):
    """A limiter was declared twice, sized below 1, or named without being declared."""


class BoundaryWarning(UserWarning):
    """Emitted instead of an error when the configured mode is ``warn``."""


# Tracebacks and reprs show the public name (``fastapi_boundary.RouteModeError``).
for _public in (
    AppLoadError,
    BoundaryError,
    BoundaryViolationsError,
    BoundaryWarning,
    LayerDeclarationError,
    LayerDependencyError,
    ModeMismatchError,
    RouteModeError,
    OffloadError,
    LimiterError,
):
    _public.__module__ = "fastapi_boundary"
