"""Where a detection is attributed: the user's calling line, the route, the layer.

A blocking call is made deep inside the standard library or a driver; the
report names the first frame of the user's code (``requests`` calling
``socket`` is the user's call to ``requests``), the route being served and
the innermost declared layer method on the stack.
"""

from __future__ import annotations

import functools
import inspect
import os
import sysconfig
import types
from types import FrameType
from typing import Any

from .._common.declarations import LAYER_ATTR, LayerInfo
from .._common.modes import Mode
from .._common.sites import Site, relative_path
from .loop_threads import suspended
from .request_scope import current_route

__all__ = [
    "caller_frame",
    "is_foreign",
    "layer_on_stack",
    "loop_function",
    "site_of_frame",
    "where",
]


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple(
        sorted({os.path.realpath(path) + os.sep for path in paths if path}, key=len, reverse=True)
    )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_paths = sysconfig.get_paths()
_STDLIB_DIRS = _dirs(_paths.get("stdlib"), _paths.get("platstdlib"))
_THIRD_PARTY_DIRS = _dirs(_paths.get("purelib"), _paths.get("platlib"))


_FOREIGN_DIRS = _STDLIB_DIRS + _THIRD_PARTY_DIRS


def _is_library(filename: str) -> bool:
    return filename.startswith((_PACKAGE_DIR, "<frozen "))


@functools.lru_cache(maxsize=512)
def is_foreign(filename: str) -> bool:
    """Whether ``filename`` belongs to the standard library or an installed package."""
    real = os.path.realpath(filename) if not filename.startswith("<") else filename
    return real.startswith(_FOREIGN_DIRS)


def caller_frame(frame: FrameType | None) -> FrameType | None:
    """The user's frame that made the blocking call.

    The first frame outside this package, the standard library and installed
    packages (``requests`` calling ``socket`` is the user's call to
    ``requests``); failing that, the first frame outside this package.
    """
    first_outside: FrameType | None = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_library(filename):
            if first_outside is None:
                first_outside = frame
            if not is_foreign(filename):
                return frame
        frame = frame.f_back
    return first_outside


def site_of_frame(frame: FrameType | None) -> Site | None:
    if frame is None:
        return None
    return Site(relative_path(frame.f_code.co_filename), frame.f_lineno)


def _layer_of_frame(frame: FrameType) -> tuple[str, Mode] | None:
    code = frame.f_code
    if not code.co_argcount:
        function = frame.f_globals.get(code.co_name)
        info = getattr(function, LAYER_ATTR, None)
        return (code.co_name, info.mode) if isinstance(info, LayerInfo) else None
    receiver = frame.f_locals.get(code.co_varnames[0])
    owner = receiver if isinstance(receiver, type) else type(receiver)
    info = getattr(owner, LAYER_ATTR, None)
    if isinstance(info, LayerInfo):
        # the class that defines the method, not a subclass the receiver happens to be
        for klass in owner.__mro__:
            member = klass.__dict__.get(code.co_name)
            member = getattr(member, "__func__", member)
            if getattr(member, "__code__", None) is code:
                return f"{klass.__qualname__}.{code.co_name}", info.mode
        return f"{owner.__qualname__}.{code.co_name}", info.mode
    function = frame.f_globals.get(code.co_name)
    info = getattr(function, LAYER_ATTR, None)
    return (code.co_name, info.mode) if isinstance(info, LayerInfo) else None


def layer_on_stack(frame: FrameType | None) -> tuple[str | None, Mode | None]:
    """The innermost declared layer method (or ``@layer`` function) on the stack."""
    while frame is not None:
        found = _layer_of_frame(frame)
        if found is not None:
            return found
        frame = frame.f_back
    return None, None


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def _qualname(frame: FrameType) -> str:
    """The frame's function's qualified name (``Class.method``; CPython 3.10 has no
    ``co_qualname``: the class is found from the first argument)."""
    code = frame.f_code
    found = getattr(code, "co_qualname", None)
    if isinstance(found, str):
        return found
    if code.co_argcount:
        receiver = frame.f_locals.get(code.co_varnames[0])
        owner = receiver if isinstance(receiver, type) else type(receiver)
        for klass in owner.__mro__:
            member: Any = vars(klass).get(code.co_name)
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if type(member) is types.FunctionType and member.__code__ is code:
                return f"{klass.__qualname__}.{code.co_name}"
    return code.co_name


def loop_function(frame: FrameType | None) -> tuple[str, Site] | None:
    """The fake-async function: the innermost ``async def`` of the user's code on the stack.

    A blocking call deep in a sync helper or a library is that function's doing:
    it is what the summary names, with each route it was seen on, and what a
    baseline entry records, so one entry never covers another function.
    """
    with suspended():
        while frame is not None:
            code = frame.f_code
            filename = code.co_filename
            if code.co_flags & _ASYNC_FLAGS and not (_is_library(filename) or is_foreign(filename)):
                module = frame.f_globals.get("__name__")
                name = _qualname(frame)
                label = f"{module}.{name}" if isinstance(module, str) else name
                return label, Site(relative_path(filename), code.co_firstlineno)
            frame = frame.f_back
    return None


def where(frame: FrameType | None) -> tuple[Site | None, str | None, str | None, Mode | None]:
    """Site, route, layer and layer mode for a detection made at ``frame``."""
    with suspended():
        site = site_of_frame(caller_frame(frame))
        layer, mode = layer_on_stack(frame)
        return site, current_route(), layer, mode
