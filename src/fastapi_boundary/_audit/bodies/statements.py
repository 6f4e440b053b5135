"""How a walk evaluates statements: assignments, ``with``, loops, ``try``, imports."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ..._common.modules import loaded_module
from .base import WalkBase
from .resolve import element_of, live_items, source_text, static_attr, written_annotation
from .values import STATE, Inst, Local, Managed, Obj, Unknown, Value, class_of, useful


class Statements(WalkBase):
    """Statements of a body, in source order."""

    # --- statements --------------------------------------------------------------------

    def run(self) -> None:
        node = self.node
        if isinstance(node, ast.Lambda):
            self.summary.returns.append(self.expr(node.body))
        else:
            self.block(node.body)

    def block(self, statements: Iterable[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AnnAssign):
            value = self.expr(node.value) if node.value is not None else Unknown("unassigned")
            declared = self.an.annotation(written_annotation(node.annotation, self), self.func)
            self.assign(
                node.target, declared if declared is not None and useful(declared) else value
            )
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value)
            self.expr(node.target)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.summary.returns.append(self.expr(node.value))
        elif isinstance(node, (ast.If, ast.While)):
            self.expr(node.test)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            iterated = self.expr(node.iter)
            items = live_items(iterated)
            if items is None:
                self.assign(node.target, element_of(iterated))
                self.block(node.body)
            else:
                self.each_item(node, items)
            self.block(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                entered = self.enter(self.expr(item.context_expr), isinstance(node, ast.AsyncWith))
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, entered)
            self.block(node.body)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.block(node.body)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                if handler.name:
                    self.env[handler.name] = self.caught(handler.type)
                self.block(handler.body)
            self.block(node.orelse)  # type: ignore[attr-defined]
            self.block(node.finalbody)  # type: ignore[attr-defined]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.env[node.name] = Local(node, self)
        elif isinstance(node, ast.ClassDef):
            self.env[node.name] = Unknown(f"class {node.name} defined in the function")
        elif isinstance(node, ast.Raise):
            if node.exc is not None:
                self.expr(node.exc)
        elif isinstance(node, ast.Assert):
            self.expr(node.test)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = alias.asname or alias.name.partition(".")[0]
                module = loaded_module(alias.name if alias.asname else name)
                if isinstance(node, ast.ImportFrom) and node.module:
                    source = loaded_module(node.module)
                    found = vars(source).get(alias.name) if source is not None else None
                    self.env[name] = Obj(found) if found is not None else Unknown("an import")
                else:
                    self.env[name] = Obj(module) if module is not None else Unknown("an import")
        elif type(node).__name__ == "Match":
            self.expr(node.subject)  # type: ignore[attr-defined]
            for case in node.cases:  # type: ignore[attr-defined]
                self.block(case.body)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.expr(target)

    def each_item(self, node: ast.For | ast.AsyncFor, items: list[Value]) -> None:
        """The loop's body once per item; a call found on every pass is one hit."""
        before = len(self.summary.hits)
        for item in items:
            self.assign(node.target, item)
            self.block(node.body)
        seen: set[tuple[object, ...]] = set()
        kept = self.summary.hits[:before]
        for hit in self.summary.hits[before:]:
            key = tuple((link.name, str(link.site)) for link in hit.path)
            if key not in seen:
                seen.add(key)
                kept.append(hit)
        self.summary.hits[:] = kept

    def caught(self, kind: ast.expr | None) -> Value:
        """What ``except Kind as error`` binds: an instance of ``Kind`` when it is one class."""
        found = self.expr(kind) if kind is not None else None
        if isinstance(found, Obj) and isinstance(found.value, type):
            return Inst(found.value)
        return Unknown("the exception caught")

    def assign(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            previous = self.env.get(target.id)
            if useful(previous) and not useful(value):
                return  # a may-analysis: keep what it can be
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            element = (
                value.args[0]
                if isinstance(value, Inst) and value.cls is list and value.args
                else None
            )
            for index, item in enumerate(target.elts):
                if isinstance(value, Inst) and value.cls is tuple and index < len(value.args):
                    self.assign(item, value.args[index])
                else:
                    self.assign(item, element or Unknown(f"unpacked from {source_text(target)}"))
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            if owner is STATE:
                if useful(value) or target.attr not in self.an.state:
                    self.an.state[target.attr] = value
            elif (
                self.self_name is not None
                and isinstance(target.value, ast.Name)
                and target.value.id == self.self_name
                and (useful(value) or target.attr not in self.summary.self_attrs)
            ):
                self.summary.self_attrs[target.attr] = value
        elif isinstance(target, ast.Subscript):
            self.expr(target.value)
            self.expr(target.slice)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, Inst(list))

    def enter(self, manager: Value, is_async: bool) -> Value:
        """What ``with manager as x`` binds to ``x``."""
        if isinstance(manager, Managed):
            return manager.inner
        cls = class_of(manager)
        if cls is None:
            return manager
        raw = static_attr(cls, "__aenter__" if is_async else "__enter__")
        if raw is not None:
            found = self.an.returns(raw, manager)
            if useful(found):
                assert found is not None
                return found
        return manager

    # --- expressions -------------------------------------------------------------------
