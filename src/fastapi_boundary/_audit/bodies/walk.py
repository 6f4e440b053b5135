"""One walk of one function body: the statement, expression and call mixins together."""

from __future__ import annotations

import ast

from ..._common.sites import Site
from ..loop_rules import Link
from .calls import Calls
from .expressions import Expressions
from .statements import Statements
from .summaries import MAX_DEPTH, Hit, Summary
from .values import Local, Unknown, Value


class Walk(Statements, Expressions, Calls):
    """One walk of one function body, in source order, with its names' values."""

    def inline(
        self, local: Local, args: list[Value], kwargs: dict[str, Value], node: ast.Call
    ) -> Value:
        """A function written inside this one, called here: walked where it was written."""
        definition = local.node
        name = getattr(definition, "name", "<lambda>")
        site = Site(self.shown_file, node.lineno)
        if self.depth >= MAX_DEPTH:
            if self.an.counting:
                self.an.not_followed.setdefault(name, site)
            return Unknown(f"what {name}() returns")
        walk = Walk.nested(local, self.depth + 1)
        names = [a.arg for a in (*definition.args.posonlyargs, *definition.args.args)]
        for parameter, value in zip(names, args, strict=False):
            walk.env[parameter] = value
        for key, value in kwargs.items():
            walk.env[key] = value
        walk.run()
        if walk.summary.hits:
            first = walk.summary.hits[0]
            self.summary.hits.append(Hit((Link(name, site), *first.path), first.blocking))
        self.summary.started.extend(walk.summary.started)
        generator = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(definition))
        found = walk.summary.result(generator)
        return found if found is not None else Unknown(f"what {name}() returns")

    @classmethod
    def nested(cls, local: Local, depth: int) -> Walk:
        outer = local.walk
        walk = cls.__new__(cls)
        walk.an = outer.an
        walk.func = outer.func
        walk.node = local.node
        walk.depth = depth
        walk.file = outer.file
        walk.shown_file = outer.shown_file
        walk.globals = outer.globals
        walk.summary = Summary()
        walk.env = dict(outer.env)
        walk.closure = outer.closure
        walk.self_name = outer.self_name
        walk.owner = outer.owner
        return walk
