"""The rules as pure functions that turn a finding into a `Violation`.

Import-time checks, ``check_app`` and the CLI all build their messages
here, so the same mistake reads the same wherever it is caught.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._common import fixes
from .._common.declarations import LayerInfo
from .._common.modes import CallableShape, Mode, Shape
from .._common.sites import Site, display_name, site_of
from .._common.violations import Party, Rule, Violation
from .drivers import is_library_driver

__all__ = [
    "conflicting_bases",
    "endpoint_mode_mismatch",
    "function_mode_mismatch",
    "layer_dependency_mismatch",
    "method_mode_mismatch",
    "missing_mode",
    "route_dependency_mismatch",
    "route_r3",
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
    fix = fixes.layer_method_fix(name, info.mode.value, info.kind)
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
    actual = shape.mode.value if shape.mode else "unknown"
    return Violation(
        Rule.R2,
        f"{name} ({site}) is declared {_a(info.role)} but is {_shape_words(shape)}",
        Party(info.role, name, shape.mode, site),
        None,
        fix=fixes.layer_function_fix(name, info.mode.value, actual),
    )


def _mixing_fix(subject: str, subject_info: LayerInfo, other: str, other_info: LayerInfo) -> str:
    """How to repair ``subject`` (of one mode) depending on ``other`` (of the other mode)."""
    return fixes.layer_dependency_fix(
        subject,
        subject_info.mode.value,
        subject_info.kind,
        other,
        other_info.mode.value,
        other_info.kind,
        other_info.advice,
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
    fix = fixes.endpoint_mode_fix(name, router_mode.value, websocket="websocket" in route.lower())
    mismatch = (
        f"is {_shape_words(shape)} but its router is a {router_kind} ({router_mode.value}) "
        f"created at {router_site}"
    )
    return Violation(
        Rule.R2,
        f"endpoint {name} ({site}) of route {route} {mismatch}",
        Party("endpoint", name, shape.mode, site),
        Party(router_kind, router_kind, router_mode, router_site),
        fix=fix,
        chain=(route, name),
        route=route,
        cause_summary=f"endpoint {name} ({site}) {mismatch}",
        cause_chain=(name,),
    )


def route_dependency_mismatch(
    route: str,
    consumer: Party,
    chain: Sequence[str],
    target: object,
    target_info: LayerInfo,
    provided_by: object | None,
    consumer_at: int = 0,
) -> Violation:
    """R3 for routes: a layer or driver of the other mode is handed to ``consumer``.

    ``consumer`` is the endpoint, or the dependency whose parameter receives
    the layer: FastAPI awaits an async dependency even under a ``def``
    endpoint, so the mode that matters is the receiver's.  ``chain`` runs
    from the endpoint; ``chain[consumer_at:]`` from the consumer on is the
    cause, the same whichever route reaches it.
    """
    other = _layer_party(target, target_info)
    name = consumer.name
    how = ""
    if provided_by is not None and provided_by is not target:
        how = f", provided by {display_name(provided_by)} ({site_of(provided_by)})"
    mode = consumer.mode.value if consumer.mode is not None else ""
    fix = fixes.endpoint_dependency_fix(
        name, mode, other.name, target_info.kind, target_info.advice
    )
    return route_r3(route, consumer, other, how, fix, chain, consumer_at)


def route_r3(
    route: str,
    consumer: Party,
    other: Party,
    how: str,
    fix: str,
    chain: Sequence[str],
    consumer_at: int,
) -> Violation:
    """R3 on a route; its cause (summary, chain from ``consumer_at``) names no route."""
    return Violation(
        Rule.R3,
        f"{consumer.describe()} of route {route} depends on {other.describe()}{how}",
        consumer,
        other,
        fix=fix,
        chain=(route, *chain),
        route=route,
        cause_summary=f"{consumer.describe()} depends on {other.describe()}{how}",
        cause_chain=tuple(chain[consumer_at:]),
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
