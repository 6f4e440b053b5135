"""SQLAlchemy's ``MissingGreenlet``, explained: a sync lazy load under an ``AsyncSession``.

Reading a relationship that was not loaded makes the ORM run a query on attribute access,
synchronously; under an ``AsyncSession`` that cannot work, and SQLAlchemy says only
"greenlet_spawn has not been called".  While the guard is on, the error leaving an app
is raised again (the same exception class, so ``except MissingGreenlet`` still works)
naming the attribute, the user's line, the layer, the route and the fix.
"""

from __future__ import annotations

import traceback
from typing import Any

from .._common.fixes import lazy_load_fix
from .._common.modules import loaded_module
from .attribution import is_foreign, layer_on_stack, site_of_frame

__all__ = ["explained"]


def _missing_greenlet(error: BaseException) -> bool:
    for candidate in (error, getattr(error, "orig", None)):  # 2.1 wraps it in StatementError
        if type(candidate).__name__ == "MissingGreenlet":
            return True
    return False


def explained(error: BaseException, route: str | None) -> BaseException | None:
    """The error to raise instead of ``error``, or ``None`` when it is not a lazy load."""
    if not _missing_greenlet(error):
        return None
    exc = loaded_module("sqlalchemy.exc")
    cls = getattr(exc, "MissingGreenlet", None) if exc is not None else None
    if not isinstance(cls, type):
        return None
    attribute: tuple[str, str] | None = None
    user: Any = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        if code.co_name == "__get__" and code.co_filename.endswith("orm/attributes.py"):
            owner = frame.f_locals.get("self")
            key, klass = getattr(owner, "key", None), getattr(owner, "class_", None)
            if isinstance(key, str) and isinstance(klass, type):
                attribute = (klass.__name__, key)
            break
        if not is_foreign(code.co_filename):
            user = frame
    if attribute is None:
        return None
    owner_name, key = attribute
    parts = [f"{owner_name}.{key} was loaded lazily, on attribute access, under an AsyncSession"]
    site = site_of_frame(user)
    if site is not None:
        parts.append(f"at {site}")
    if route is not None:
        parts.append(f"while serving {route}")
    layer, mode = layer_on_stack(user)
    if layer is not None:
        parts.append(f"in {layer}" + (f" ({mode.value} layer)" if mode is not None else ""))
    message = (
        " ".join(parts)
        + ": the ORM's sync query cannot run on the event loop. "
        + f"Fix: {lazy_load_fix(owner_name, key)}."
    )
    try:
        return cls(message)  # type: ignore[no-any-return]
    except Exception:  # a release whose constructor differs: keep the original
        return None
