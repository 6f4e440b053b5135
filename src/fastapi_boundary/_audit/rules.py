"""The rules as pure functions that turn a finding into a `Violation`.

Import-time checks, ``check_app`` and the CLI all build their messages
here, so the same mistake reads the same wherever it is caught.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._common.declarations import LayerInfo
from .._common.modes import CallableShape, Mode, Shape
from .._common.sites import Site, display_name, site_of
from .._common.violations import Party, Rule, Violation
from .drivers import is_library_driver

__all__ = [
    "conflicting_bases",
    "endpoint_mode_mismatch",
    "function_mode_mismatch",
    "missing_mode",
    "layer_dependency_mismatch",
    "method_mode_mismatch",
    "route_dependency_mismatch",
    "unresolved_reference",
]


def _a(noun: str) -> str:
    """``a sync service`` / ``an async service``."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _layer_party(owner: object, info: LayerInfo) -> Party:
    if info.kind == "driver" and is_library_driver(owner):
        # a library class: its module says more than a path inside site-packages
        return Party(info.role, display_name(owner), info.mode, Site(owner.__module__))
    return Party(info.role, display_name(owner), info.mode, site_of(owner))


def _shape_words(shape: CallableShape) -> str:
    words = {
        Shape.COROUTINE_FUNCTION: "an async def",
        Shape.ASYNC_GENERATOR_FUNCTION: "an async generator",
        Shape.GENERATOR_FUNCTION: "a generator (def ... yield)",
        Shape.FUNCTION: "a plain def",
        Shape.CLASS: "a class",
        Shape.NOT_CALLABLE: "not callable",
    }
    return words[shape.shape]


def missing_mode(cls: type) -> Violation:
    """R1: ``@layer`` on a class without saying which mode it has."""
    return Violation(
        Rule.R1,
        f"@layer on class {display_name(cls)} ({site_of(cls)}) needs a mode: a class's mode is "
        f"declared, never guessed",
        Party("layer", display_name(cls), None, site_of(cls)),
        None,
        fix=(
            "write @layer('sync') or @layer('async'), or inherit from SyncService / "
            "AsyncService (SyncRepository / AsyncRepository)"
        ),
    )


def conflicting_bases(cls: type, declared: Sequence[tuple[type, LayerInfo]]) -> Violation:
    """R1: one class inherits layer declarations of both modes."""
    listed = ", ".join(f"{display_name(base)} ({info.role})" for base, info in declared)
    sync_base = next(base for base, info in declared if info.mode is Mode.SYNC)
    async_base = next(base for base, info in declared if info.mode is Mode.ASYNC)
    return Violation(
        Rule.R1,
        f"{display_name(cls)} ({site_of(cls)}) inherits both modes: {listed}",
        Party("layer", display_name(cls), None, site_of(cls)),
        Party("layer base", display_name(async_base), Mode.ASYNC, site_of(async_base)),
        fix=(
            f"a layer has exactly one mode: inherit from {display_name(sync_base)} "
            f"or from {display_name(async_base)}, not both; "
            "split the class into a sync and an async layer if it needs both"
        ),
    )


def method_mode_mismatch(
    owner: type, info: LayerInfo, name: str, shape: CallableShape
) -> Violation:
    """R2: a public callable of a layer is of the other mode."""
    method = f"{display_name(owner)}.{name}"
    site = site_of(shape.target)
    private = "" if name.startswith("__") else f" or name it _{name}"
    if info.mode is Mode.SYNC:
        fix = (
            f"make {name} a plain def (a sync {info.kind} runs in the threadpool and "
            f"cannot await), or move it to an async layer"
            + (f"; a private helper may be named _{name}" if private else "")
        )
    else:
        fix = (
            f"make {name} an async def over an async driver; if it is a pure helper "
            f"that does no I/O, decorate it with @pure{private}"
        )
    return Violation(
        Rule.R2,
        f"{method} ({site}) is {_shape_words(shape)} but {display_name(owner)} "
        f"({site_of(owner)}) is {_a(info.role)}",
        Party("method", method, shape.mode, site),
        _layer_party(owner, info),
        fix=fix,
    )


def function_mode_mismatch(function: object, info: LayerInfo, shape: CallableShape) -> Violation:
    """R2 for function layers: ``@layer('async')`` on a plain ``def`` and the reverse."""
    name = display_name(function)
    site = site_of(shape.target)
    wanted = "a plain def" if info.mode is Mode.SYNC else "an async def"
    actual = shape.mode.value if shape.mode else "unknown"
    return Violation(
        Rule.R2,
        f"{name} ({site}) is declared {_a(info.role)} but is {_shape_words(shape)}",
        Party(info.role, name, shape.mode, site),
        None,
        fix=f"make {name} {wanted}, or declare it @layer('{actual}')",
    )


def _mixing_fix(subject: str, subject_info: LayerInfo, other: str, other_info: LayerInfo) -> str:
    """How to repair ``subject`` (of one mode) depending on ``other`` (of the other mode)."""
    if other_info.kind == "driver":
        return (
            f"{other} is a {other_info.advice}: use that in {subject}, or make {subject} "
            f"{other_info.mode.value} so the whole chain has one mode"
        )
    if subject_info.mode is Mode.ASYNC:
        return (
            f"give {subject} an async {other_info.kind} (over an async driver such as "
            f"SQLAlchemy's AsyncSession), or make {subject} a sync {subject_info.kind} so the "
            f"whole chain stays sync; async code may reach sync code only through one explicit "
            f"offload at the boundary (to_async(service), or await run_blocking(...))"
        )
    return (
        f"a sync {subject_info.kind} cannot await: give {subject} a sync "
        f"{other_info.kind} (over a blocking driver), or make {subject} async; never mix "
        f"an async {other_info.kind} into a sync chain"
    )


def layer_dependency_mismatch(
    owner: object, owner_info: LayerInfo, target: object, target_info: LayerInfo, via: str
) -> Violation:
    """R3: a layer names a layer of the other mode in its constructor or attributes."""
    subject = _layer_party(owner, owner_info)
    other = _layer_party(target, target_info)
    return Violation(
        Rule.R3,
        f"{subject.describe()} depends on {other.describe()} through {via}",
        subject,
        other,
        fix=_mixing_fix(subject.name, owner_info, other.name, target_info),
        chain=(subject.name, other.name),
    )


def endpoint_mode_mismatch(
    route: str, router: tuple[Mode, str, Site], endpoint: object, shape: CallableShape
) -> Violation:
    """R2 for routers: an endpoint of the other mode is added to a declared router."""
    router_mode, router_kind, router_site = router
    name = display_name(endpoint)
    site = site_of(shape.target)
    if router_mode is Mode.SYNC:
        fix = (
            f"make {name} a plain def (FastAPI runs it in the threadpool), or add it to an "
            f"AsyncRouter if it only awaits async drivers"
        )
        if "websocket" in route.lower():
            fix = f"websocket endpoints are async: add {name} to an AsyncRouter"
    else:
        fix = (
            f"make {name} an async def that awaits async layers, or add it to a SyncRouter "
            f"if it uses blocking libraries"
        )
    return Violation(
        Rule.R2,
        f"endpoint {name} ({site}) of route {route} is {_shape_words(shape)} but its "
        f"router is a {router_kind} ({router_mode.value}) created at {router_site}",
        Party("endpoint", name, shape.mode, site),
        Party(router_kind, router_kind, router_mode, router_site),
        fix=fix,
        chain=(route, name),
    )


def route_dependency_mismatch(
    route: str,
    consumer: Party,
    chain: Sequence[str],
    target: object,
    target_info: LayerInfo,
    provided_by: object | None,
) -> Violation:
    """R3 for routes: a layer or driver of the other mode is handed to ``consumer``.

    ``consumer`` is the endpoint, or the dependency whose parameter receives
    the layer: FastAPI awaits an async dependency even under a ``def``
    endpoint, so the mode that matters is the receiver's.
    """
    other = _layer_party(target, target_info)
    name = consumer.name
    how = ""
    if provided_by is not None and provided_by is not target:
        how = f", provided by {display_name(provided_by)} ({site_of(provided_by)})"
    if target_info.kind == "driver":
        fix = f"{other.name} is a {target_info.advice}: use that in {name}"
    elif consumer.mode is Mode.ASYNC:
        fix = f"give {name} an async {target_info.kind} instead of {other.name}"
    else:
        fix = f"{name} cannot await {other.name}: give it a sync {target_info.kind}"
    if consumer.mode is Mode.ASYNC:
        fix += (
            f", or make {name} a plain def (on a SyncRouter) so the whole request stays sync; "
            f"an async route may reach sync code only through one explicit offload "
            f"(a provider returning to_async(service), or await run_blocking(...))"
        )
    else:
        fix += f", or make {name} an async def (on an AsyncRouter)"
    return Violation(
        Rule.R3,
        f"{consumer.describe()} of route {route} depends on {other.describe()}{how}",
        consumer,
        other,
        fix=fix,
        chain=(route, *chain),
    )


def unresolved_reference(
    owner: object, owner_info: LayerInfo, expression: str, via: str, candidates: Sequence[type]
) -> Violation:
    """R3: a forward reference names several layers of different modes and cannot be checked."""
    subject = _layer_party(owner, owner_info)
    listed = ", ".join(f"{display_name(c)} ({site_of(c)})" for c in candidates)
    return Violation(
        Rule.R3,
        f"{subject.describe()} names {expression!r} through {via}, which cannot be resolved "
        f"and matches layers of both modes: {listed}",
        subject,
        None,
        fix=(
            f"import {expression} at run time in {getattr(owner, '__module__', '?')} (not only "
            f"under TYPE_CHECKING) so its mode can be checked"
        ),
    )
