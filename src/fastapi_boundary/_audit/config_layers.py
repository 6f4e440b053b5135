"""Layers declared in ``[tool.fastapi-boundary.layers]``: classes matched by name, not marked.

An existing app declares its layers without editing a class: a pattern of
qualified names (``"app.repositories.*" = "sync repository"``) makes every
matching class a layer for the audit, as if it carried the declaration.  The
audit asks `layer_of` wherever it asks whether something is a layer (the
dependency-tree walk, the annotations R3 reads); a declaration in code wins
over the configuration.

The rules are active only inside `using` (``check_app(app, config=...)``):
import-time checks never read the configuration.  With no rules active,
`layer_of` is `declared_layer` and one truth test, so an app without the
table pays nothing.  Answers are kept per class until the rules change, and
the audit's own caches of layer lookups are cleared when they do.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import typing
import weakref
from collections.abc import Callable, Iterator

from .._common.config import LayerRule, match_layer
from .._common.declarations import BASE_ATTR, LayerInfo, declared_layer
from .._common.modes import Mode

__all__ = ["active_rules", "configured_class", "layer_of", "on_change", "qualified_name", "using"]

_rules: tuple[LayerRule, ...] = ()
_found: weakref.WeakKeyDictionary[type, LayerInfo | None] = weakref.WeakKeyDictionary()
_clearers: list[Callable[[], None]] = []
_SKIPPED: frozenset[object] = frozenset({object, typing.Generic})


def on_change(clear: Callable[[], None]) -> None:
    """Register a cache of layer lookups, cleared whenever the active rules change."""
    _clearers.append(clear)


def active_rules() -> tuple[LayerRule, ...]:
    return _rules


def _activate(rules: tuple[LayerRule, ...]) -> None:
    global _rules
    _rules = rules
    _found.clear()
    for clear in _clearers:
        clear()


@contextlib.contextmanager
def using(rules: tuple[LayerRule, ...]) -> Iterator[None]:
    """Treat the classes ``rules`` match as layers inside the block."""
    previous = _rules
    if rules == previous:
        yield
        return
    _activate(rules)
    try:
        yield
    finally:
        _activate(previous)


def qualified_name(obj: object) -> str:
    """``module.QualName`` of a class or function (an instance: of its class)."""
    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    if callable(target) and not inspect.isclass(target):
        with contextlib.suppress(ValueError):
            target = inspect.unwrap(target)
    if not (inspect.isclass(target) or inspect.isroutine(target)):
        target = type(target)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', type(target).__qualname__)}"


def _class_rule(cls: type) -> LayerRule | None:
    """The rule matching ``cls`` itself (not its bases)."""
    if cls in _SKIPPED or cls.__dict__.get(BASE_ATTR, False):
        return None
    return match_layer(_rules, f"{cls.__module__}.{cls.__qualname__}")


def configured_class(cls: type) -> bool:
    """Whether the active rules match ``cls`` itself (R2 then skips what it inherits from it)."""
    return bool(_rules) and _class_rule(cls) is not None


def _configured(cls: type) -> LayerInfo | None:
    try:
        return _found[cls]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable
        return _lookup(cls)
    info = _found[cls] = _lookup(cls)
    return info


def _lookup(cls: type) -> LayerInfo | None:
    for klass in getattr(cls, "__mro__", (cls,)):
        rule = _class_rule(klass)
        if rule is not None:
            return LayerInfo(Mode.parse(rule.mode), rule.kind)
    return None


def layer_of(obj: object) -> tuple[LayerInfo, object] | None:
    """`declared_layer`, or the layer the active configuration makes of ``obj``'s class.

    Classes (and instances of them, as callable-instance dependencies) are
    matched; functions are layers only when declared in code.
    """
    declared = declared_layer(obj)
    if declared is not None or not _rules:
        return declared
    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isclass(target):
        cls = target
    elif inspect.isroutine(target) or not callable(target):
        return None
    else:
        cls = type(target)
    info = _configured(cls)
    return (info, cls) if info is not None else None
