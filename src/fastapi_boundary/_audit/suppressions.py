"""Suppressions: a rule switched off for one route, layer or dependency, always for a reason.

Written in code, on the object they concern (nothing else changes: no base
class, no wrapper)::

    @suppress_rule("R3", reason="reads the legacy sync Session until #812 lands")
    class ReportService: ...

or in ``[[tool.fastapi-boundary.suppress]]`` (`BoundaryConfig.suppress`).
A suppression without a reason is refused where it is written: the decorator
call (its file and line), the class or ``@layer`` that takes ``suppress=``, or
the table entry (its file and number).

A suppression covers the findings of its rule in which its object takes
part: as the party at fault, as the layer or driver it reaches, or as a link
of the chain between them (a ``Depends`` provider).  A route suppression
covers the route's own findings (its endpoint and dependency tree).  One that
covers nothing is *stale*: the audit reports it and fails until it is
removed, so suppressions only ever go away.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from .._common.config import Suppression, parse_rule
from .._common.declarations import SUPPRESS_ATTR
from .._common.errors import LayerDeclarationError
from .._common.sites import Site, caller_site, display_name, site_of
from .._common.violations import Violation
from .config_layers import qualified_name
from .report import DependencyNode, RouteReport

__all__ = [
    "attach",
    "chain_nodes",
    "index_objects",
    "matches_name",
    "matches_route",
    "party_objects",
    "suppress_rule",
    "suppressed_in_code",
    "suppressions_of",
]

_T = TypeVar("_T")


def _error(message: str) -> LayerDeclarationError:
    return LayerDeclarationError(message)


def _holder(target: object) -> object:
    """What carries the attribute: the function of a static/class method, else the object."""
    if isinstance(target, (staticmethod, classmethod)):
        return target.__func__
    return target


def attach(target: object, reasons: Mapping[str, str], where: Site, label: str) -> None:
    """Record the suppressions ``reasons`` (rule -> reason) on ``target``.

    ``label`` is how the user wrote them (``@suppress_rule('R3')``,
    ``suppress=``), for the messages.  Raises when a reason is missing or a
    rule is unknown, naming ``where``.
    """
    if not isinstance(reasons, Mapping) or not reasons:
        raise _error(
            f"{label} at {where} takes rules with their reasons, e.g. "
            f'{{"R3": "legacy sync client, tracked in #812"}}; got {reasons!r}.'
        )
    holder = _holder(target)
    if isinstance(holder, property) or not (inspect.isclass(holder) or callable(holder)):
        raise _error(
            f"{label} at {where} applies to a class, an endpoint or a dependency; got "
            f"{type(holder).__name__}. Fix: put it on the class, or on the function itself."
        )
    name = qualified_name(holder)
    found = []
    for rule, reason in reasons.items():
        code = parse_rule(rule, f"{label} at {where}")
        if not isinstance(reason, str) or not reason.strip():
            raise _error(
                f"{label} at {where} ({display_name(holder)}) suppresses {code} without a "
                "reason: a suppression says why. Fix: give the reason, e.g. "
                f'reason="sync client until the migration in #812".'
            )
        found.append(Suppression(code, reason.strip(), "object", name, str(where)))
    own = holder.__dict__.get(SUPPRESS_ATTR, ()) if hasattr(holder, "__dict__") else ()
    try:
        if inspect.isclass(holder):
            type.__setattr__(holder, SUPPRESS_ATTR, (*own, *found))
        else:
            setattr(holder, SUPPRESS_ATTR, (*own, *found))
    except (AttributeError, TypeError) as error:
        raise _error(
            f"{label} at {where} cannot mark {display_name(holder)}: {error}. "
            "Fix: suppress it in [[tool.fastapi-boundary.suppress]] instead."
        ) from error


def suppress_rule(*rules: str, reason: str = "") -> Callable[[_T], _T]:
    """Suppress ``rules`` for the decorated class, endpoint or dependency, for ``reason``.

    ``@suppress_rule("R3", reason="...")`` on a class (a layer, declared in
    code or in the configuration), an endpoint or a ``Depends`` provider.  It
    covers the findings of those rules in which the object takes part;
    ``fastapi-boundary check`` lists what it covers and reports it as stale
    once it covers nothing.  Returns the object itself: nothing is wrapped.
    Put it below ``@layer(...)`` and the route decorator, so that their
    import-time checks see it.
    """
    where = caller_site()
    label = f"@suppress_rule({', '.join(map(repr, rules))})"
    if not rules:
        raise _error(
            f'@suppress_rule() at {where} names no rule. Fix: @suppress_rule("R3", reason="...").'
        )
    if not isinstance(reason, str) or not reason.strip():
        raise _error(
            f"{label} at {where} needs a reason: a suppression says why. "
            'Fix: add reason="why this is allowed, and until when".'
        )
    for rule in rules:
        parse_rule(rule, f"{label} at {where}")

    def apply(target: _T) -> _T:
        attach(target, dict.fromkeys(rules, reason), where, label)
        return target

    return apply


def suppressions_of(obj: object) -> tuple[Suppression, ...]:
    """The suppressions written in code on ``obj`` (its class, for an instance)."""
    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isclass(target):
        found = target.__dict__.get(SUPPRESS_ATTR, ())
    elif inspect.isroutine(target):
        found = getattr(target, SUPPRESS_ATTR, ())
    else:
        found = type(target).__dict__.get(SUPPRESS_ATTR, ())
    return found if isinstance(found, tuple) else ()


def suppressed_in_code(violation: Violation, objects: Iterable[object]) -> bool:
    """Whether a suppression in code on one of ``objects`` covers ``violation`` (import time)."""
    code = violation.rule.code
    return any(item.rule == code for obj in objects for item in suppressions_of(obj))


# --- matching (check_app) --------------------------------------------------------------


def _route_spec(spec: str) -> tuple[frozenset[str], str]:
    methods, _, path = spec.strip().rpartition(" ")
    return frozenset(m.strip().upper() for m in methods.split(",") if m.strip()), path


def matches_route(spec: str, route: RouteReport) -> bool:
    """``"GET /items/{item_id}"``, ``"GET,POST /items"``, ``"/items/*"`` or ``"WEBSOCKET /ws"``."""
    methods, path = _route_spec(spec)
    if not fnmatch.fnmatchcase(route.path, path):
        return False
    if not methods:
        return True
    if route.kind == "websocket":
        return "WEBSOCKET" in methods
    return bool(methods & set(route.methods))


def matches_name(pattern: str, name: str) -> bool:
    if any(char in pattern for char in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return name == pattern


def chain_nodes(route: RouteReport, violation: Violation) -> list[DependencyNode]:
    """The nodes of ``route``'s tree named in ``violation``'s chain (its endpoint always)."""
    if route.endpoint is None:
        return []
    named = set(violation.chain)
    nodes = route.endpoint.walk()
    return [nodes[0]] + [
        node for node in nodes[1:] if node.call in named or (node.layer_name or "") in named
    ]


def party_objects(violation: Violation, known: Mapping[tuple[str, str], list[Any]]) -> list[Any]:
    """The objects behind a violation's parties, looked up by name and file among ``known``."""
    found: list[Any] = []
    for party in (violation.subject, violation.other):
        if party is not None:
            found.extend(known.get((party.name, party.site.file), ()))
    return found


def index_objects(objects: Iterable[object]) -> dict[tuple[str, str], list[Any]]:
    """``(display name, file) -> objects``: how parties name what they stand for."""
    index: dict[tuple[str, str], list[Any]] = {}
    for obj in objects:
        name = display_name(obj)
        # a library's driver is named by its module, a project's class by its file
        for where in {site_of(obj).file, getattr(obj, "__module__", None) or ""}:
            entry = index.setdefault((name, where), [])
            if obj not in entry:
                entry.append(obj)
    return index
