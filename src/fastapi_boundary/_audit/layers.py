"""Declared layers: the base classes, the ``layer`` decorator and ``pure``.

A layer's mode is checked once, when the class is created or the function
is decorated (R2: its public callables match its mode; R3: what it depends
on has its mode).  Nothing is wrapped: a declared method is the very
function object the user wrote.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, ClassVar, Literal, TypeVar, overload

from .._common import hooks
from .._common.declarations import (
    BASE_ATTR,
    LAYER_ATTR,
    LAYER_LIMITER_ATTR,
    PURE_ATTR,
    LayerInfo,
    declared_layer,
)
from .._common.errors import LayerDeclarationError, LayerDependencyError, ModeMismatchError
from .._common.modes import Mode, Shape, shape_of
from .._common.sites import caller_site, display_name, site_of
from .._common.violations import Violation
from .._offload.threads import Limiter
from . import annotations as refs
from . import config_layers, registry
from .enforcement import current_mode, enforce
from .rules import (
    conflicting_bases,
    function_mode_mismatch,
    layer_dependency_mismatch,
    method_mode_mismatch,
    missing_mode,
    unresolved_reference,
)
from .suppressions import attach, suppressed_in_code

__all__ = [
    "AsyncRepository",
    "AsyncService",
    "SyncRepository",
    "SyncService",
    "audit_layer",
    "check_deferred",
    "layer",
    "pure",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_BASE_ATTR = BASE_ATTR
_PURE_ATTR = PURE_ATTR
_SKIPPED_BASES: frozenset[object] = frozenset({object, typing.Generic})
ModeLike = Mode | Literal["sync", "async"]


def _is_library_base(klass: type) -> bool:
    return klass.__dict__.get(_BASE_ATTR, False) is True


# --- R2: the public callables of a layer match its mode -------------------------------


def _public_callables(cls: type) -> Iterator[tuple[str, object]]:
    """Yield the public callables a class defines or inherits from non-layer mixins."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass in _SKIPPED_BASES or _is_library_base(klass):
            continue
        inherited_layer = klass is not cls and (
            LAYER_ATTR in klass.__dict__ or config_layers.configured_class(klass)
        )
        for name, raw in klass.__dict__.items():
            if name in seen:
                continue
            seen.add(name)
            if inherited_layer or (name.startswith("_") and name != "__call__"):
                continue
            if isinstance(raw, (property, functools.cached_property)):
                continue  # attribute access, documented as exempt
            function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            if isinstance(function, functools.partialmethod):
                function = function.func
            if inspect.isroutine(function) or isinstance(function, functools.partial):
                yield name, function


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _plainly_of_mode(function: object, mode: Mode) -> bool:
    """Fast path: a plain function whose code flags already show it matches ``mode``."""
    if type(function) is not types.FunctionType or hasattr(function, "__wrapped__"):
        return False
    is_async = bool(function.__code__.co_flags & _ASYNC_FLAGS)
    return is_async is (mode is Mode.ASYNC)


def _method_violations(cls: type, info: LayerInfo) -> list[Violation]:
    found = []
    for name, function in _public_callables(cls):
        if _plainly_of_mode(function, info.mode):
            continue
        if info.mode is Mode.ASYNC and getattr(function, _PURE_ATTR, False):
            continue
        shape = shape_of(function)
        if shape.mode is not None and shape.mode is not info.mode:
            found.append(method_mode_mismatch(cls, info, name, shape))
    return found


# --- R3: a layer depends only on layers of its own mode -------------------------------


def _mismatches(
    owner: object,
    info: LayerInfo,
    via: str,
    found: list[refs.LayerReference | refs.Unresolved],
    *,
    enforcing: bool = False,
) -> list[Violation]:
    """R3 violations among ``found``; ``enforcing`` (import time) leaves out the suppressed.

    The audit (``audit_layer``) keeps them: it reports what suppressions cover.
    """
    violations = []
    for ref in found:
        if isinstance(ref, refs.LayerReference) and ref.info.mode is not info.mode:
            violation = layer_dependency_mismatch(owner, info, ref.target, ref.info, via)
            if not (enforcing and suppressed_in_code(violation, (owner, ref.target))):
                violations.append(violation)
    return violations


def _dependency_violations(owner: object, info: LayerInfo) -> list[Violation]:
    violations: list[Violation] = []
    for site, found in refs.site_references(owner):
        violations.extend(_mismatches(owner, info, site.via, found, enforcing=True))
        for item in found:
            if isinstance(item, refs.Unresolved):
                registry.defer(
                    registry.Deferred(
                        owner,
                        info,
                        site.via,
                        item.expression,
                        item.missing,
                        site.module,
                        site.localns,
                    )
                )
    return violations


def _retry_deferred_for(cls: type) -> list[Violation]:
    """A class was just created: check the same-module references that waited for it."""
    violations: list[Violation] = []
    for item in registry.deferred_for_name(cls.__name__, cls.__module__):
        localns = {**item.localns, cls.__name__: cls}
        found = list(refs.references_in(item.expression, item.module, localns))
        still_missing = [ref for ref in found if isinstance(ref, refs.Unresolved)]
        if still_missing:
            item.missing = still_missing[0].missing
        else:
            registry.forget(item)
        violations.extend(_mismatches(item.owner, item.owner_info, item.via, found, enforcing=True))
    return violations


def _final_check(
    owner: object,
    info: LayerInfo,
    via: str,
    expression: str,
    module: str,
    localns: Mapping[str, Any],
) -> tuple[list[Violation], list[str]]:
    """Check one string annotation for good: now, or by name, or as a note.

    A name still missing is looked up among the known layer classes; one
    that names no layer becomes a note in the report, never silently skipped.
    """
    found = list(refs.references_in(expression, module, localns))
    missing = [ref for ref in found if isinstance(ref, refs.Unresolved)]
    if missing:
        candidates = registry.layer_classes_named(missing[0].missing)
        modes = {declared_layer(c)[0].mode for c in candidates}  # type: ignore[index]
        if len(modes) > 1:
            return [unresolved_reference(owner, info, expression, via, candidates)], []
        if not candidates:
            note = (
                f"{display_name(owner)} ({site_of(owner)}): annotation {expression!r} of {via} "
                f"names {missing[0].missing!r}, which is not importable and is no known layer; "
                f"treated as not a layer"
            )
            return [], [note]
        localns = {**localns, missing[0].missing: candidates[0]}
        found = list(refs.references_in(expression, module, localns))
    return _mismatches(owner, info, via, found), []


def check_deferred(owners: Collection[object]) -> list[Violation]:
    """Check the deferred references of ``owners`` whose names now exist.

    Used when a router registers a route: a name still missing stays
    deferred for ``check_app`` and start-up.
    """
    violations: list[Violation] = []
    for item in registry.all_deferred():
        if item.owner not in owners:
            continue
        found = list(refs.references_in(item.expression, item.module, item.localns))
        if not any(isinstance(ref, refs.Unresolved) for ref in found):
            violations.extend(
                _mismatches(item.owner, item.owner_info, item.via, found, enforcing=True)
            )
    return violations


def audit_layer(owner: object, info: LayerInfo) -> tuple[list[Violation], list[str]]:
    """R2 and R3 for one layer, for good: what ``check_app`` reports about the app's layers.

    Runs whatever the import-time mode was (``warn`` or ``off`` included),
    and resolves forward references now that the app is imported.
    """
    if inspect.isclass(owner):
        violations = _method_violations(owner, info)
    else:
        shape = shape_of(owner)
        violations = [] if shape.mode is info.mode else [function_mode_mismatch(owner, info, shape)]
    notes: list[str] = []
    for site, found in refs.site_references(owner):
        violations.extend(_mismatches(owner, info, site.via, found))
        for item in found:
            if isinstance(item, refs.Unresolved):
                more, more_notes = _final_check(
                    owner, info, site.via, item.expression, site.module, site.localns
                )
                violations.extend(more)
                notes.extend(more_notes)
    return violations, notes


# --- declaring ---------------------------------------------------------------------------


def _inherited_declarations(cls: type) -> list[tuple[type, LayerInfo]]:
    declared = []
    for klass in cls.__mro__[1:]:
        info = klass.__dict__.get(LAYER_ATTR)
        if isinstance(info, LayerInfo):
            declared.append((klass, info))
    return declared


def _declare_class(cls: type, explicit: LayerInfo | None) -> None:
    inherited = _inherited_declarations(cls)
    candidates = ([(cls, explicit)] if explicit else []) + inherited
    if len({info.mode for _, info in candidates}) > 1:
        raise LayerDeclarationError.from_violations([conflicting_bases(cls, candidates)])
    info = explicit or inherited[0][1]
    try:
        type.__setattr__(cls, LAYER_ATTR, info)
    except (TypeError, AttributeError) as error:
        raise LayerDeclarationError(
            f"cannot declare {display_name(cls)} as a {info.role}: {error}. "
            f"Fix: subclass it (class My{cls.__name__}({cls.__name__}, "
            f"{'Sync' if info.mode is Mode.SYNC else 'Async'}Service)) and declare the subclass."
        ) from error
    registry.remember_layer_class(cls)
    if hooks.on_layer_declared:  # step timing is on: a class created meanwhile is timed too
        hooks.layer_declared(cls)
    if current_mode() == "off":
        return
    methods = [v for v in _method_violations(cls, info) if not suppressed_in_code(v, (cls,))]
    enforce(ModeMismatchError, methods)
    enforce(LayerDependencyError, _dependency_violations(cls, info))
    enforce(LayerDependencyError, _retry_deferred_for(cls))


class _Layer:
    """Common base of the layer classes: checks every subclass as it is created."""

    __boundary_base__ = True
    __boundary_layer__: ClassVar[LayerInfo]
    __slots__ = ()

    def __init_subclass__(
        cls,
        *,
        limiter: Limiter | str | None = None,
        suppress: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Check the new layer; ``limiter=`` names the thread limiter its offloads use.

        ``suppress={"R3": "reason"}`` suppresses rules for this class, as
        `suppress_rule` does, before its checks run.
        """
        super().__init_subclass__(**kwargs)
        if suppress is not None:
            attach(cls, suppress, site_of(cls), f"class {cls.__name__}(..., suppress=...)")
        if not _is_library_base(cls):
            _declare_class(cls, None)
        if limiter is not None:
            if cls.__boundary_layer__.mode is not Mode.SYNC:
                raise LayerDeclarationError(
                    f"limiter= is for sync layers (their methods are what gets offloaded); "
                    f"{display_name(cls)} ({site_of(cls)}) is an "
                    f"{cls.__boundary_layer__.role}. Fix: remove limiter=."
                )
            if not isinstance(limiter, (str, Limiter)):
                raise LayerDeclarationError(
                    f"limiter= takes a Limiter or a limiter name; got {limiter!r}"
                )
            type.__setattr__(cls, LAYER_LIMITER_ATTR, limiter)


class SyncRepository(_Layer):
    """Base of repositories over a blocking driver (sync SQLAlchemy ``Session``, sqlite3).

    Public methods must be plain ``def`` (or generators); constructor and
    annotated attributes may name only sync layers.
    """

    __boundary_base__ = True
    __boundary_layer__ = LayerInfo(Mode.SYNC, "repository")
    __slots__ = ()


class AsyncRepository(_Layer):
    """Base of repositories over an async driver (``AsyncSession``, aiosqlite, asyncpg).

    Public methods must be ``async def`` (or async generators); use
    `pure` for helpers that do no I/O.
    """

    __boundary_base__ = True
    __boundary_layer__ = LayerInfo(Mode.ASYNC, "repository")
    __slots__ = ()


class SyncService(_Layer):
    """Base of services that run in the threadpool and use sync repositories only."""

    __boundary_base__ = True
    __boundary_layer__ = LayerInfo(Mode.SYNC, "service")
    __slots__ = ()


class AsyncService(_Layer):
    """Base of services that run on the event loop and await async repositories only."""

    __boundary_base__ = True
    __boundary_layer__ = LayerInfo(Mode.ASYNC, "service")
    __slots__ = ()


def _parse_mode(mode: object) -> Mode:
    try:
        return Mode.parse(mode)  # type: ignore[arg-type]
    except ValueError as error:
        raise LayerDeclarationError(
            f"layer() takes 'sync' or 'async' (or Mode.SYNC / Mode.ASYNC); got {mode!r}. "
            "Fix: @layer('sync') or @layer('async')."
        ) from error


def _declare_function(function: Callable[..., Any], mode: Mode | None, kind: str) -> None:
    shape = shape_of(function)
    if shape.shape in (Shape.CLASS, Shape.NOT_CALLABLE) or not inspect.isroutine(
        inspect.unwrap(function)
    ):
        raise LayerDeclarationError(
            f"layer() applies to classes and functions; {display_name(function)} "
            f"({site_of(function)}) is {type(function).__name__!r}. Fix: decorate the class "
            f"or the function that defines it."
        )
    info = LayerInfo(mode or shape.mode or Mode.SYNC, kind)
    if current_mode() != "off" and shape.mode is not info.mode:
        violation = function_mode_mismatch(function, info, shape)
        if not suppressed_in_code(violation, (function,)):
            enforce(ModeMismatchError, [violation])
    try:
        function.__boundary_layer__ = info  # type: ignore[attr-defined]
    except AttributeError as error:
        raise LayerDeclarationError(
            f"cannot mark {display_name(function)}: {error}. Fix: wrap it in a def."
        ) from error
    if current_mode() != "off":
        enforce(LayerDependencyError, _dependency_violations(function, info))


def _apply(target: _F, mode: Mode | None, kind: str) -> _F:
    if inspect.isclass(target):
        if mode is None:
            raise LayerDeclarationError.from_violations([missing_mode(target)])
        _declare_class(target, LayerInfo(mode, kind))
        return target
    if isinstance(target, (staticmethod, classmethod, property)) or not callable(target):
        raise LayerDeclarationError(
            f"layer() applies to classes and functions; got {type(target).__name__} "
            f"{target!r}. Fix: put @layer(...) on the class, not on one of its members."
        )
    _declare_function(target, mode, kind)
    return target


@overload
def layer(target: _F, /) -> _F: ...
@overload
def layer(
    mode: ModeLike, /, *, kind: str = "layer", suppress: Mapping[str, str] | None = None
) -> Callable[[_F], _F]: ...
def layer(target: Any, /, *, kind: str = "layer", suppress: Mapping[str, str] | None = None) -> Any:
    """Declare a function-based layer or a class that cannot change its bases.

    ``@layer`` alone declares a function with the mode of its definition
    (``def`` is sync, ``async def`` is async).  ``@layer("sync")`` or
    ``@layer("async", kind="repository")`` declares either a function (which
    must then be of that mode) or a class (checked as the base classes are).
    ``suppress={"R3": "reason"}`` suppresses rules for the object, as
    `suppress_rule` does, before its checks run.  Returns the object itself:
    nothing is wrapped.
    """
    if isinstance(target, (Mode, str)):
        mode = _parse_mode(target)
        if suppress is None:
            return lambda obj: _apply(obj, mode, kind)
        where = caller_site()

        def declare(obj: _F) -> _F:
            attach(obj, suppress, where, f"@layer({str(mode)!r}, suppress=...)")
            return _apply(obj, mode, kind)

        return declare
    return _apply(target, None, kind)


def pure(function: _F) -> _F:
    """Mark a sync method of an async layer as a pure helper (no I/O, no waiting).

    Such a method may stay a plain ``def``; everything else in an async layer
    must be ``async def``.  Returns the function itself.
    """
    raw = function.__func__ if isinstance(function, (staticmethod, classmethod)) else function
    shape = shape_of(raw)
    if shape.shape is not Shape.FUNCTION or not inspect.isroutine(inspect.unwrap(raw)):
        raise LayerDeclarationError(
            f"@pure marks plain def helpers; {display_name(raw)} ({site_of(raw)}) is a "
            f"{shape.shape.value}. Fix: remove @pure (an async def needs no marker in an "
            f"async layer), or make the helper a plain def that does no I/O."
        )
    setattr(raw, _PURE_ATTR, True)
    return function
