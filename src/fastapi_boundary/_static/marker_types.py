"""Types the mypy plugin gives to ``@blocking`` and ``@cpu_bound`` functions.

The plugin swaps the function type's fallback (normally ``builtins.function``)
for one of these subclasses, so the marker travels with the type through
aliases, attributes and bound methods, and survives mypy's cache.  Nothing
here exists at run time: the decorators return the very function they mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__: list[str] = []

if TYPE_CHECKING:
    from builtins import function

    # ``function`` is final for users; a subclass is exactly what a marker type needs.
    class BlockingFunction(function):  # type: ignore[misc]
        """A function marked ``@blocking``: async code reaches it through ``run_blocking``."""

    class CpuBoundFunction(function):  # type: ignore[misc]
        """A function marked ``@cpu_bound``: async code runs it with ``run_cpu``."""
