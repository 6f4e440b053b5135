"""Resolution helpers the analysis and the walk share: annotations, live objects, arguments."""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import inspect
import io
import sys
import types
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..._common.modules import loaded_module
from .. import annotations as refs
from .sources import is_app_file, is_app_function
from .values import BLOCKED, Inst, Obj, Unknown, Value, mro_names, useful

if TYPE_CHECKING:
    from .base import WalkBase


# --- annotations ----------------------------------------------------------------------------

BUILTIN_RESULTS: dict[object, type] = {
    builtins.open: io.TextIOWrapper,
    len: int,
    repr: str,
    str: str,
    isinstance: bool,
    hash: int,
    id: int,
    sorted: list,
    format: str,
}


_SAME = frozenset(
    {
        *("strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold"),
        *("swapcase", "replace", "format", "join", "removeprefix", "removesuffix", "zfill"),
        *("center", "ljust", "rjust", "expandtabs", "translate", "copy"),
    }
)
_STRING_RESULTS: dict[str, type] = {
    **dict.fromkeys(("split", "rsplit", "splitlines"), list),
    **dict.fromkeys(("find", "rfind", "index", "rindex", "count"), int),
    **dict.fromkeys(("startswith", "endswith", "isdigit", "isalpha", "isalnum"), bool),
    **dict.fromkeys(("isspace", "islower", "isupper", "isidentifier", "isascii"), bool),
    "encode": bytes,
    "decode": str,
}


def builtin_method_result(cls: type, name: str) -> Value | None:
    """What a method of ``str``, ``bytes``, ``int`` ... returns (C methods carry no annotations)."""
    if cls not in (str, bytes, int, float, list, dict, set, tuple):
        return None
    if name in _SAME:
        return Inst(cls)
    if cls in (str, bytes):
        found = _STRING_RESULTS.get(name)
        if found is not None:
            return Inst(found, (Inst(cls),)) if found is list else Inst(found)
    return None


def is_depends(obj: object) -> bool:
    params = loaded_module("fastapi.params")
    depends = getattr(params, "Depends", None) if params is not None else None
    return isinstance(depends, type) and isinstance(obj, depends)


def is_http_connection(cls: type) -> bool:
    requests = loaded_module("starlette.requests")
    base = getattr(requests, "HTTPConnection", None) if requests is not None else None
    return isinstance(base, type) and issubclass(cls, base)


def element_of(value: Value) -> Value:
    """What iterating over ``value`` gives."""
    if isinstance(value, Inst):
        if value.args:
            return value.args[0]
        return Unknown(f"items of {value.cls.__qualname__}")
    if isinstance(value, Unknown):
        return value
    return Unknown("items of a value")


#: How many distinct items of a live collection a ``for`` loop's body is walked with.
LOOP_ITEMS = 4


def live_items(value: Value) -> list[Value] | None:
    """The distinct items of a live list, tuple or set the app holds, for a ``for`` body.

    ``for permission in self.permission_classes:`` over ``[ApiKeyPermission, ...]``
    runs each class's code: the body is walked once per distinct item (a class by
    identity, an instance by its type), at most `LOOP_ITEMS` of them.
    """
    if not isinstance(value, Obj) or type(value.value) not in (list, tuple, set, frozenset):
        return None
    items: list[object] = list(value.value)  # type: ignore[call-overload]  # checked above
    found: dict[int, Value] = {}
    for item in items[:64]:
        key = id(item) if isinstance(item, type) else id(type(item))
        found.setdefault(key, Obj(item))
        if len(found) == LOOP_ITEMS:
            break
    return list(found.values()) or None


class _PackageNames(Mapping[str, Any]):
    """Names for evaluating a library's string annotation: its module's, else its package's.

    Libraries import the classes their annotations name under ``TYPE_CHECKING``
    only (``-> Engine`` in ``sqlalchemy.engine.create``); the class is found in
    the package's top-level module or another module of it already imported.
    """

    def __init__(self, module: str) -> None:
        found = loaded_module(module)
        self.own: dict[str, Any] = vars(found) if found is not None else {}
        self.package = module.partition(".")[0]

    def __getitem__(self, name: str) -> Any:
        if name in self.own:
            return self.own[name]
        found = _package_name(self.package, name)
        if found is MISSING:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.own)

    def __len__(self) -> int:
        return len(self.own)


_package_names: dict[tuple[str, str], Any] = {}  # found only: a module imported later may have it


def _package_name(package: str, name: str) -> Any:
    known = _package_names.get((package, name), MISSING)
    if known is not MISSING:
        return known
    top = loaded_module(package)
    found: Any = MISSING
    if top is not None and name in vars(top):
        found = vars(top)[name]
    else:
        prefix = package + "."
        for module_name, module in list(sys.modules.items()):
            if module_name.startswith(prefix) and module is not None:
                candidate = vars(module).get(name, MISSING)
                if candidate is not MISSING and getattr(candidate, "__name__", None) == name:
                    found = candidate
                    break
    if found is not MISSING and len(_package_names) < 4096:
        _package_names[package, name] = found
    return found


def evaluate_annotation(annotation: str, module: str) -> object:
    """A string annotation's value, in its module, else with its package's names."""
    evaluated = refs.evaluate(annotation, module, {})
    if not isinstance(evaluated, refs.Unresolved) or not module:
        return evaluated
    found = loaded_module(module)
    if found is None:
        return evaluated
    try:
        return eval(_compile(annotation), vars(found), _PackageNames(module))
    except Exception:
        return evaluated


@functools.lru_cache(maxsize=4096)
def _compile(expression: str) -> types.CodeType:
    return compile(expression, "<annotation>", "eval")


def is_generator(func: object) -> bool:
    return inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)


def or_blocked(value: Value | None) -> Value:
    return value if value is not None and useful(value) else BLOCKED


def sourceless_app_function(func: object) -> bool:
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType) or not code.co_filename.startswith("<"):
        return False
    module = getattr(func, "__module__", None)
    if not isinstance(module, str) or loaded_module(module) is None:
        return True  # nothing says it is a library's
    file = getattr(loaded_module(module), "__file__", None)
    return not isinstance(file, str) or is_app_file(file)


def hashable(obj: object) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def app_init(cls: type) -> Any:
    """The first ``__init__`` along the MRO, when it is the app's own."""
    for klass in getattr(cls, "__mro__", ()):
        init = klass.__dict__.get("__init__")
        if init is not None:
            return init if is_app_function(init) else None
    return None


def sessionmaker_class(obj: object) -> type | None:
    """The session class a live ``sessionmaker`` (sync or async) or ``scoped_session`` makes."""
    if loaded_module("sqlalchemy") is None:
        return None
    names = mro_names(type(obj))
    if any(name.endswith(("sessionmaker", "scoped_session")) for name in names):
        factory = getattr(obj, "session_factory", obj)  # scoped_session wraps a sessionmaker
        made: object = inspect.getattr_static(factory, "class_", None)
        return made if isinstance(made, type) else None
    return None


def inspector_of(cls: type) -> object | None:
    """What ``sqlalchemy.inspect(x)`` returns for an ``x`` of class ``cls`` (its registrar)."""
    inspection = loaded_module("sqlalchemy.inspection")
    registrars = getattr(inspection, "_registrars", None)
    if not isinstance(registrars, dict):
        return None
    for klass in getattr(cls, "__mro__", ()):
        registrar = registrars.get(klass)
        if registrar is not None:
            return registrar if callable(registrar) else None
    return None


def source_text(node: ast.AST, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PropertyRef:
    __slots__ = ("cls", "name", "prop", "receiver")

    def __init__(self, receiver: Value, prop: property, cls: type, name: str) -> None:
        self.receiver = receiver
        self.prop = prop
        self.cls = cls
        self.name = name


MISSING = object()


def static_attr(cls: type, name: str) -> Any:
    try:
        return inspect.getattr_static(cls, name)
    except (AttributeError, Exception):
        return None


def closure_of(func: Any) -> dict[str, Any]:
    code = getattr(func, "__code__", None)
    cells = getattr(func, "__closure__", None) or ()
    if code is None:
        return {}
    found: dict[str, Any] = {}
    for name, cell in zip(code.co_freevars, cells, strict=False):
        with contextlib.suppress(ValueError):  # an empty cell
            found[name] = cell.cell_contents
    return found


def defaults_of(func: Any) -> dict[str, Any]:
    code = getattr(func, "__code__", None)
    if code is None:
        return {}
    defaults = getattr(func, "__defaults__", None) or ()
    positional = code.co_varnames[: code.co_argcount]
    found = dict(zip(positional[len(positional) - len(defaults) :], defaults, strict=False))
    found.update(getattr(func, "__kwdefaults__", None) or {})
    return found


def bind_arguments(
    func: Any, has_receiver: bool, args: list[Value], kwargs: dict[str, Value]
) -> dict[str, Value]:
    """The arguments of a call, by the helper's parameter names (the receiver left out)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return {}
    positional = list(code.co_varnames[: code.co_argcount])
    if has_receiver:
        positional = positional[1:]
    names = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    bound = dict(zip(positional, args, strict=False))
    bound.update((name, value) for name, value in kwargs.items() if name in names)
    return bound


def defining_class(cls: type, func: Any) -> type | None:
    """The class along ``cls``'s MRO whose namespace defines ``func`` (for ``super()``)."""
    mro: tuple[type, ...] = getattr(cls, "__mro__", ())
    for klass in mro:
        for value in klass.__dict__.values():
            if getattr(value, "__func__", value) is func:
                return klass
    return None


def written_annotation(node: ast.expr, walk: WalkBase) -> object:
    """An annotation written in a body (``x: Session = ...``), as the live object it names."""
    if isinstance(node, ast.Constant):
        return node.value  # a string: evaluated as an annotation
    evaluated = evaluate_annotation(source_text(node, limit=1000), refs.module_of(walk.func))
    if not isinstance(evaluated, refs.Unresolved):
        return evaluated
    if isinstance(node, (ast.Name, ast.Attribute)):
        value = walk.expr(node)  # a local or closure name
        if isinstance(value, Obj):
            return value.value
    return None
