"""Finding the layers a layer depends on, from its annotations.

A layer depends on another when its constructor parameters or annotated
attributes name it: directly, through ``Optional``/unions, ``Annotated[X,
Depends(f)]``, containers such as ``list[Repo]``, or the return annotation
of a ``Depends`` provider.  String annotations are evaluated in the owner's
module; a name that does not exist yet is *deferred*, never dropped (the
registry of deferred references and known layer classes is `registry`).
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import inspect
import typing
import weakref
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import CodeType
from typing import Any, ForwardRef, cast

from fastapi import params

from .._common.declarations import BASE_ATTR, OFFLOAD_ATTR, LayerInfo
from .._common.modules import loaded_module
from . import config_layers
from .config_layers import layer_of
from .drivers import driver_info

__all__ = [
    "AWAITABLES",
    "ITERATORS",
    "AnnotationSite",
    "LayerReference",
    "Unresolved",
    "dependency_annotations",
    "evaluate",
    "module_of",
    "offload_target",
    "provider_returns",
    "references_in",
    "site_references",
]

_MAX_PROVIDER_DEPTH = 4
ITERATORS = frozenset(
    {
        collections.abc.Iterator,
        collections.abc.Iterable,
        collections.abc.Generator,
        collections.abc.AsyncIterator,
        collections.abc.AsyncIterable,
        collections.abc.AsyncGenerator,
    }
)
"""Generic origins whose argument is what a ``yield`` provider or an iteration produces."""
AWAITABLES = frozenset({collections.abc.Awaitable, collections.abc.Coroutine})
"""Generic origins whose argument is what an ``await`` produces."""


@dataclass(frozen=True)
class LayerReference:
    """A layer named by an annotation: ``target`` carries ``info``."""

    target: object
    info: LayerInfo


@dataclass(frozen=True)
class Unresolved:
    """A string annotation naming something that does not exist yet."""

    expression: str
    missing: str


def _evaluate(expression: str, module: str, localns: Mapping[str, Any]) -> Any:
    module_obj = loaded_module(module)
    globalns = vars(module_obj) if module_obj is not None else {"__builtins__": __builtins__}
    return eval(_compiled(expression), globalns, localns)


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> CodeType:
    return compile(expression, "<annotation>", "eval")


def evaluate(expression: str, module: str, localns: Mapping[str, Any]) -> Any | Unresolved:
    """Evaluate a string annotation, or say which name is missing."""
    try:
        return _evaluate(expression, module, localns)
    except NameError as error:
        return Unresolved(expression, getattr(error, "name", None) or expression)
    except Exception:  # an annotation that is not an expression we can evaluate
        return Unresolved(expression, expression)


def _is_depends(meta: object) -> bool:
    return isinstance(meta, params.Depends)


_provided: weakref.WeakKeyDictionary[Any, tuple[LayerReference | Unresolved, ...]] = (
    weakref.WeakKeyDictionary()
)
config_layers.on_change(_provided.clear)  # what a provider returns may be a layer now


def provider_returns(provider: object, depth: int = 0) -> tuple[LayerReference | Unresolved, ...]:
    """The same, as a tuple: providers are shared by many routes, so the answer is kept."""
    if depth > _MAX_PROVIDER_DEPTH or not callable(provider):
        return ()
    try:
        cached = _provided.get(provider)
    except TypeError:  # unhashable or not weak-referenceable: no cache
        cached = None
    if cached is not None:
        return cached
    target = inspect.unwrap(provider) if inspect.isroutine(provider) else provider
    annotations = getattr(target, "__annotations__", None)
    if not isinstance(annotations, dict) or "return" not in annotations:
        found: tuple[LayerReference | Unresolved, ...] = ()
    else:
        module = getattr(target, "__module__", "") or ""
        found = tuple(references_in(annotations["return"], module, {}, depth + 1))
    if not any(isinstance(item, Unresolved) for item in found):
        with contextlib.suppress(TypeError):
            _provided[provider] = found
    return found


def offload_target(provider: object) -> str | None:
    """The sync object a provider hands out behind an explicit boundary (``AsyncProxy[X]``)."""
    target = inspect.unwrap(provider) if inspect.isroutine(provider) else provider
    annotations = getattr(target, "__annotations__", None)
    if not isinstance(annotations, dict) or "return" not in annotations:
        return None
    returned = annotations["return"]
    if isinstance(returned, str):
        returned = evaluate(returned, getattr(target, "__module__", "") or "", {})
    origin = typing.get_origin(returned)
    if origin is None or not getattr(origin, OFFLOAD_ATTR, False):
        return None
    wrapped = typing.get_args(returned)
    name = getattr(wrapped[0], "__qualname__", None) if wrapped else None
    return f"{origin.__name__}[{name}]" if name else origin.__name__


def references_in(
    annotation: object, module: str, localns: Mapping[str, Any], depth: int = 0
) -> Iterator[LayerReference | Unresolved]:
    """Yield every layer (or unresolved name) an annotation refers to."""
    if isinstance(annotation, str):
        annotation = evaluate(annotation, module, localns)
    elif isinstance(annotation, ForwardRef):
        annotation = evaluate(annotation.__forward_arg__, module, localns)
    if isinstance(annotation, Unresolved):
        yield annotation
        return
    if annotation is None or annotation is Ellipsis or isinstance(annotation, typing.TypeVar):
        return
    if _is_depends(annotation):
        yield from _depends_references(annotation, depth)
        return
    if getattr(annotation, OFFLOAD_ATTR, False):
        return  # an explicit offload boundary: what it wraps is meant to be the other mode
    if inspect.isclass(annotation):
        declared = layer_of(annotation)
        if declared is not None:
            yield LayerReference(declared[1], declared[0])
            return
        driver = driver_info(annotation)
        if driver is not None:
            yield LayerReference(annotation, driver)
            return
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return
    if origin is not None and getattr(origin, OFFLOAD_ATTR, False):
        return
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        yield from references_in(args[0], module, localns, depth)
        for meta in getattr(annotation, "__metadata__", ()):
            if _is_depends(meta):
                yield from _depends_references(meta, depth)
        return
    for arg in args:
        if isinstance(arg, (list, tuple)):  # Callable[[A, B], R]
            for item in arg:
                yield from references_in(item, module, localns, depth)
        else:
            yield from references_in(arg, module, localns, depth)


def _depends_references(depends: Any, depth: int) -> Iterator[LayerReference | Unresolved]:
    dependency = getattr(depends, "dependency", None)
    if dependency is None:
        return
    declared = layer_of(dependency)
    if declared is not None:
        yield LayerReference(declared[1], declared[0])
        return
    yield from provider_returns(dependency, depth)


def _owner_localns(owner: object) -> Mapping[str, Any]:
    """Local names for evaluating an owner's string annotations, without copying anything."""
    name = getattr(owner, "__name__", None)
    own = {name: owner} if isinstance(name, str) else {}
    if not inspect.isclass(owner):
        return own
    # read-only use: a mappingproxy serves lookups as well as a dict would
    return ChainMap(own, cast("dict[str, Any]", vars(owner)))


@dataclass(frozen=True)
class AnnotationSite:
    """One annotation that may name a dependency, with where to evaluate it."""

    via: str
    annotation: object
    module: str
    localns: Mapping[str, Any]


def dependency_annotations(owner: object) -> Iterator[AnnotationSite]:
    """Yield every place a layer names its dependencies: constructor and attributes."""
    if inspect.isclass(owner):
        init = getattr(owner, "__init__", None)
        if init is not None and init is not object.__init__:
            yield from _parameter_annotations(init, f"{owner.__qualname__}.__init__", owner)
        for klass in owner.__mro__:
            if klass is object or klass.__dict__.get(BASE_ATTR, False):
                continue
            namespace = _owner_localns(klass)
            for name, annotation in inspect.get_annotations(klass).items():
                yield AnnotationSite(
                    f"attribute {name!r} of {klass.__qualname__}",
                    annotation,
                    module_of(klass),
                    namespace,
                )
    elif callable(owner):
        label = getattr(owner, "__qualname__", repr(owner))
        yield from _parameter_annotations(owner, label, owner)


def site_references(
    owner: object,
) -> Iterator[tuple[AnnotationSite, list[LayerReference | Unresolved]]]:
    """Each dependency site of ``owner`` with what it names, each layer once per parameter.

    A parameter can name the same layer twice: ``users: UserRepository = Depends()``
    names it in the annotation, and older FastAPI releases (0.100, say) fill the bare ``Depends()``
    in with that annotation once the app is built (``Depends(UserRepository)``).
    """
    seen: set[tuple[str, int]] = set()
    for site in dependency_annotations(owner):
        found = []
        for item in references_in(site.annotation, site.module, site.localns):
            if isinstance(item, LayerReference):
                key = (site.via, id(item.target))
                if key in seen:
                    continue
                seen.add(key)
            found.append(item)
        yield site, found


def _parameter_annotations(function: Any, label: str, owner: object) -> Iterator[AnnotationSite]:
    function = inspect.unwrap(function) if inspect.isroutine(function) else function
    module = module_of(function) or module_of(owner)
    localns = _owner_localns(owner)
    annotations = getattr(function, "__annotations__", None) or {}
    for name, annotation in annotations.items():
        if name != "return":
            yield AnnotationSite(f"parameter {name!r} of {label}", annotation, module, localns)
    code = getattr(function, "__code__", None)
    if code is None:
        return
    defaults = getattr(function, "__defaults__", None) or ()
    positional = code.co_varnames[: code.co_argcount]
    named_defaults = list(
        zip(positional[len(positional) - len(defaults) :], defaults, strict=False)
    )
    named_defaults.extend((getattr(function, "__kwdefaults__", None) or {}).items())
    for name, default in named_defaults:
        if _is_depends(default):
            yield AnnotationSite(f"parameter {name!r} of {label}", default, module, localns)


def module_of(owner: object) -> str:
    return getattr(owner, "__module__", "") or ""
