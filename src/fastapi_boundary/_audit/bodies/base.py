"""The state of one walk of one body, and its parameters' values (shared by the walk's mixins)."""

from __future__ import annotations

import ast
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..._common.sites import Site, display_name, relative_path
from .. import annotations as refs
from .resolve import PropertyRef, closure_of, defaults_of, evaluate_annotation, is_depends
from .sources import FunctionNode
from .summaries import Summary
from .values import FRAMEWORK, STATE, Inst, Local, Unknown, Value, class_of, useful

if TYPE_CHECKING:
    from .analyzer import Analyzer


class WalkBase:
    """What one walk of one body holds: its function, depth, summary and names' values."""

    def __init__(
        self,
        analyzer: Analyzer,
        func: Any,
        node: FunctionNode,
        receiver: Value | None,
        *,
        depth: int,
        bound: Mapping[str, Value] | None = None,
    ) -> None:
        self.an = analyzer
        self.func = func
        self.node = node
        self.depth = depth
        self.file = func.__code__.co_filename
        self.shown_file = relative_path(self.file)
        self.globals: dict[str, Any] = getattr(func, "__globals__", {}) or {}
        self.summary = Summary()
        self.env: dict[str, Value] = {}
        self.closure: dict[str, Any] = closure_of(func)
        self.self_name: str | None = None
        self.owner: type | None = class_of(receiver) if receiver is not None else None
        self._bind_parameters(receiver, bound or {})

    if TYPE_CHECKING:  # what the statement, expression and call mixins give one another

        def expr(self, node: ast.expr) -> Value: ...

        def assign(self, target: ast.expr, value: Value) -> None: ...

        def call(self, node: ast.Call) -> Value: ...

        def class_member(
            self, receiver: Value, cls: type, name: str, *, on_class: bool = False
        ) -> Value | PropertyRef: ...

        def follow(
            self,
            func: Any,
            receiver: Value | None,
            bound: Mapping[str, Value],
            label: str,
            site: Site,
            node: ast.AST | None,
        ) -> Value: ...

        def inline(
            self, local: Local, args: list[Value], kwargs: dict[str, Value], node: ast.Call
        ) -> Value: ...

    # --- parameters --------------------------------------------------------------------

    def _bind_parameters(self, receiver: Value | None, bound: Mapping[str, Value]) -> None:
        arguments = self.node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        names = [p.arg for p in (*positional, *arguments.kwonlyargs)]
        if receiver is not None and names and not isinstance(self.node, ast.Lambda):
            self.self_name = names[0]
            self.env[names[0]] = receiver
            names = names[1:]
        live_defaults = defaults_of(self.func) if not isinstance(self.node, ast.Lambda) else {}
        for name in names:
            given = bound.get(name)
            if useful(given) or given is FRAMEWORK or given is STATE:
                assert given is not None
                self.env[name] = given
                continue
            self.env[name] = self._parameter(name, live_defaults.get(name), given)
        if arguments.vararg is not None:
            self.env[arguments.vararg.arg] = Inst(tuple)
        if arguments.kwarg is not None:
            self.env[arguments.kwarg.arg] = Inst(dict)

    def _parameter(self, name: str, default: object, given: Value | None) -> Value:
        """A parameter's value: its annotation, else its ``Depends`` provider's."""
        annotations = getattr(self.func, "__annotations__", None) or {}
        annotation = annotations.get(name) if isinstance(annotations, dict) else None
        where = f"parameter of {display_name(self.func)}"
        provider: object = None
        if isinstance(annotation, str):
            evaluated = evaluate_annotation(annotation, refs.module_of(self.func))
            annotation = None if isinstance(evaluated, refs.Unresolved) else evaluated
        if typing.get_origin(annotation) is typing.Annotated:
            for meta in getattr(annotation, "__metadata__", ()):
                if is_depends(meta):
                    provider = getattr(meta, "dependency", None) or typing.get_args(annotation)[0]
            annotation = typing.get_args(annotation)[0]
        if is_depends(default):
            provider = getattr(default, "dependency", None) or annotation
        value = self.an.annotation(annotation, self.func) if annotation is not None else None
        if useful(value):
            assert value is not None
            return value
        if provider is not None:
            provided = self.an.provider_value(provider)
            if useful(provided):
                assert provided is not None
                return provided
            about = "annotated Any" if annotation is not None else "no annotation"
            return Unknown(
                f"{where}, {about}, provider {display_name(provider)} returns nothing known"
            )
        if given is not None:
            return given
        if value is not None:
            return value
        return Unknown(f"{where}, no annotation")
