"""`loaded_module`: a module that something imported already, never an import.

Optional integrations (trio, greenlet, Starlette, the asyncio internals) and
user modules are looked at only once they are loaded: asking must not import
them (an import is slow, may have side effects, and on the event loop would
itself block).  This is the one place the package reads ``sys.modules`` by
name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

__all__ = ["loaded_module"]

#: The module called ``name`` if it is imported, else ``None``.  It is ``sys.modules.get``
#: itself, so a hot path that asks (step timing looks for trio on every sync layer call
#: made off the loop) pays no extra call.
loaded_module: Callable[[str], ModuleType | None] = sys.modules.get
