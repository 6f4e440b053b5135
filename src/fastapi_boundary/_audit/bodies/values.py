"""The abstract values a walk gives names, and the names the catalogue knows a callable by."""

from __future__ import annotations

import builtins
import contextlib
import inspect
import types
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from ..._common import catalog
from ..._common.declarations import (
    BLOCKING_ATTR,
    CPU_BOUND_ATTR,
)
from ..._common.modes import Mode
from ..._common.sites import Site
from ..._common.violations import Party
from ..loop_rules import Blocking
from .sources import FunctionNode

if TYPE_CHECKING:
    from .base import WalkBase


# --- abstract values -----------------------------------------------------------------------


class Unknown:
    """A value the analysis could not resolve, and why (shown in the coverage)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Obj:
    """A live object the app holds (a module global, a closure cell, a constant)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class Inst:
    """An instance of ``cls`` (not a live one): from an annotation or a constructor call.

    ``args`` are generic arguments (``list[Item]``); ``attrs`` the attributes
    known for this one instance (set by its constructor, or a dict literal's keys).
    """

    __slots__ = ("args", "attrs", "cls")

    def __init__(
        self, cls: type, args: tuple[Value, ...] = (), attrs: Mapping[str, Value] | None = None
    ) -> None:
        self.cls = cls
        self.args = args
        self.attrs = attrs


class Method:
    """``receiver.name`` resolved to ``func``, found on class ``cls``; not called yet."""

    __slots__ = ("cls", "func", "name", "receiver")

    def __init__(self, receiver: Value, func: object, cls: type, name: str) -> None:
        self.receiver = receiver
        self.func = func
        self.cls = cls
        self.name = name


class Managed:
    """What ``with`` gives for a context manager whose ``__enter__`` is not the object itself."""

    __slots__ = ("inner",)

    def __init__(self, inner: Value) -> None:
        self.inner = inner


class Local:
    """A ``def``, ``async def`` or lambda written inside the function being walked."""

    __slots__ = ("node", "walk")

    def __init__(self, node: FunctionNode, walk: WalkBase) -> None:
        self.node = node
        self.walk = walk


class Super:
    """``super()`` in a method of ``owner`` on ``receiver``."""

    __slots__ = ("owner", "receiver")

    def __init__(self, owner: type, receiver: Value) -> None:
        self.owner = owner
        self.receiver = receiver


class Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


#: ``request.state`` (and ``websocket.state``): attributes the middleware and the lifespan set.
STATE = Marker("request.state")
#: A callable the framework hands the app (``call_next``, ``receive``, ``send``), or the
#: methods of an explicit offload (``to_async(service).method``): resolved, never blocking.
FRAMEWORK = Marker("framework")
OFFLOADED = Marker("offloaded")
#: What a blocking call returns when its type is not known: already in a finding, so what
#: is called on it next (``session.scalars(q).all()``) is not counted as unresolved.
BLOCKED = Marker("the result of a blocking call")
#: What a library's dynamic attribute (``__getattr__``) gives: library code, trusted.
LIBRARY = Marker("a library's dynamic value")
DYNAMIC = Marker("a dynamic attribute")

Value: TypeAlias = Unknown | Obj | Inst | Method | Managed | Local | Super | Marker
NONE = Obj(None)


def useful(value: Value | None) -> bool:
    return value is not None and not isinstance(value, Unknown) and value is not NONE


def first_useful(values: Iterable[Value]) -> Value | None:
    for value in values:
        if useful(value):
            return value
    return None


def memo_key(value: Value | None) -> object:
    """What makes two argument values the same for the memo of a helper's analysis."""
    if isinstance(value, Obj):
        return ("o", id(value.value))
    if isinstance(value, Inst):
        return ("i", id(value.cls), id(value.attrs) if value.attrs else 0)
    if isinstance(value, Method):
        return ("m", id(value.func), memo_key(value.receiver))
    return type(value).__name__


def class_of(value: Value) -> type | None:
    if isinstance(value, Inst):
        return value.cls
    if isinstance(value, Obj) and not isinstance(value.value, types.ModuleType):
        return type(value.value)
    return None


# --- names the catalogue knows a callable by ----------------------------------------------


def _public_module(module: str) -> str | None:
    """``pathlib._local`` -> ``pathlib``, ``bcrypt._bcrypt`` -> ``bcrypt``, ``_io`` -> ``io``."""
    parts = module.split(".")
    kept: list[str] = []
    for part in parts:
        if part.startswith("_"):
            if not kept:
                kept.append(part.lstrip("_"))
            break
        kept.append(part)
    public = ".".join(kept)
    return public if public and public != module else None


def catalog_names(obj: object) -> list[str]:
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or ""
    if not isinstance(module, str) or not isinstance(qualname, str) or not qualname:
        return []
    names = [f"{module}.{qualname}"]
    if getattr(builtins, qualname, None) is obj:  # open: io.open or _io.open, but builtins first
        names.insert(0, f"builtins.{qualname}")
    public = _public_module(module)
    if public:
        names.append(f"{public}.{qualname}")
    return names


_mro_cache: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


def mro_names(cls: type) -> tuple[str, ...]:
    """The names of ``cls`` and its bases, as the catalogue's method entries use them."""
    try:
        return _mro_cache[cls]
    except (KeyError, TypeError):
        pass
    names: list[str] = []
    for klass in getattr(cls, "__mro__", (cls,)):
        if klass is not object:
            names.extend(catalog_names(klass))
    found = tuple(names)
    with contextlib.suppress(TypeError):
        _mro_cache[cls] = found
    return found


def marker_of(func: object) -> str | None:
    target = getattr(func, "__func__", func)
    marks = getattr(target, "__dict__", None)
    if not isinstance(marks, dict):
        return None
    if marks.get(CPU_BOUND_ATTR) is True:
        return "@cpu_bound"
    if BLOCKING_ATTR in marks:
        return "@blocking"
    return None


def async_fn(func: object) -> bool:
    target = getattr(func, "__func__", func)
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def catalog_blocking(entry: catalog.BlockingEntry, method: str | None) -> Blocking:
    """A catalogue entry as a finding names it: ``Session.commit``, ``subprocess.run``, ``open``."""
    if method is not None:
        owner = entry.name[:-2] if entry.is_wildcard else entry.name.rsplit(".", 1)[0]
        name = f"{owner}.{method}"
        module, _, cls = owner.rpartition(".")
        short = f"{cls}.{method}"
    else:
        name = entry.name
        module = name.rpartition(".")[0]
        short = name.removeprefix("builtins.")
    other = Party(f"blocking {entry.category} call", name, Mode.SYNC, Site(module))
    what = f"{short}, a blocking {entry.category} call"
    return Blocking(short, what, entry.category, other, entry.fix)
