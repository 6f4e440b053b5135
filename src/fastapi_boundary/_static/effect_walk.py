"""The walk over one sync function's body: the calls it makes, resolved with mypy's types.

`effects.Summaries` runs it on each sync function of a module while mypy still has the bodies
in memory; what it finds (`Call`) is what the summaries solve into effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final

from mypy.nodes import (
    FUNC_NO_INFO,
    AssignmentStmt,
    CallExpr,
    ClassDef,
    Decorator,
    Expression,
    FuncDef,
    LambdaExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    OverloadedFuncDef,
    RefExpr,
    SymbolNode,
    TypeInfo,
    Var,
    WithStmt,
)
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    Overloaded,
    ProperType,
    Type,
    TypeType,
    TypeVarType,
    UnionType,
    get_proper_type,
)

from . import compat
from .effect_model import Call
from .nodes import instances

if TYPE_CHECKING:
    from .effects import Summaries

__all__ = ["EffectWalk", "assignment_statements", "sync_functions"]

#: How deep the inference of an expression's type looks (``a.b.c()`` is 3).
_INFER_DEPTH: Final = 12

_ELSEWHERE = (FuncDef, Decorator, OverloadedFuncDef, LambdaExpr, ClassDef)


def sync_functions(statements: Iterable[object]) -> Iterator[FuncDef]:
    """The functions and methods defined in ``statements`` (classes included), not nested ones."""
    for statement in statements:
        if isinstance(statement, FuncDef):
            yield statement
        elif isinstance(statement, Decorator):
            yield statement.func
        elif isinstance(statement, OverloadedFuncDef):
            impl = statement.impl
            if isinstance(impl, Decorator):
                yield impl.func
            elif isinstance(impl, FuncDef):
                yield impl
        elif isinstance(statement, ClassDef):
            yield from sync_functions(statement.defs.body)
        elif not isinstance(statement, Expression):
            yield from sync_functions(compat.inner_statements(statement))


def assignment_statements(statements: Iterable[object]) -> Iterator[AssignmentStmt]:
    """The assignments in ``statements`` and the blocks inside them (not nested functions)."""
    for statement in statements:
        if isinstance(statement, AssignmentStmt):
            yield statement
        elif not isinstance(statement, (FuncDef, Decorator, ClassDef, Expression)):
            yield from assignment_statements(compat.inner_statements(statement))


class EffectWalk:
    """One sync function's body: its calls, and the local values their receivers come from.

    Nested functions, lambdas and classes are not entered: their code runs
    where it is handed (an offload), not when the function runs.
    """

    def __init__(self, summaries: Summaries, function: FuncDef) -> None:
        self._summaries = summaries
        self._function = function
        self._found: list[CallExpr] = []
        self._locals: dict[Var, tuple[str, Expression]] | None = None

    def calls(self) -> list[Call]:
        """What each call of the body is, in source order (only those that matter)."""
        self._collect()
        found = []
        for call in sorted(self._found, key=lambda c: (c.line, c.column)):
            kind = self._classify(call)
            if kind is not None:
                found.append(Call(call.line, kind.leaf, kind.callee))
        return found

    def _collect(self) -> None:
        if self._locals is not None:
            return
        self._locals = {}
        pending: list[Node] = [self._function.body]
        while pending:
            node = pending.pop()
            if isinstance(node, _ELSEWHERE):
                continue
            if isinstance(node, CallExpr):
                self._found.append(node)
            elif isinstance(node, AssignmentStmt):
                for lvalue in node.lvalues:
                    if isinstance(lvalue, NameExpr) and isinstance(lvalue.node, Var):
                        self._locals.setdefault(lvalue.node, ("=", node.rvalue))
            elif isinstance(node, WithStmt):
                for expression, target in zip(node.expr, node.target, strict=False):
                    if isinstance(target, NameExpr) and isinstance(target.node, Var):
                        self._locals.setdefault(target.node, ("with", expression))
            pending.extend(reversed(compat.children(node)))  # in source order

    # -- what a call is --

    def _classify(self, call: CallExpr) -> Call | None:
        callee = call.callee
        summaries = self._summaries
        if isinstance(callee, MemberExpr):
            base = callee.expr
            base_node = base.node if isinstance(base, RefExpr) else None
            if isinstance(base_node, MypyFile):  # module.function
                return summaries.classify_function(callee.node, callee.fullname, self._first(call))
            if isinstance(base_node, TypeInfo):  # Class.method, Class.staticmethod
                member = base_node.get(callee.name)
                node = member.node if member is not None else None
                name = node.fullname if node is not None else ""
                return summaries.classify_function(node, name, self._first(call))
            typ = self._type(base, 0)
            if isinstance(typ, TypeType) and isinstance(typ.item, Instance):  # cls.method()
                member = typ.item.type.get(callee.name)
                node = member.node if member is not None else None
                name = node.fullname if node is not None else ""
                return summaries.classify_function(node, name, self._first(call))
            for receiver in instances(typ):
                found = summaries.classify_method(receiver, callee.name)
                if found is not None:
                    return found
            return None
        if isinstance(callee, NameExpr):
            return summaries.classify_function(callee.node, callee.fullname, self._first(call))
        return None

    def _first(self, call: CallExpr) -> Instance | None:
        if not call.args:
            return None
        return next(instances(self._type(call.args[0], 0)), None)

    # -- a small inference: the type of a receiver, where mypy has not inferred it yet --

    def _type(self, expression: Expression, depth: int) -> ProperType | None:
        if depth > _INFER_DEPTH:
            return None
        if isinstance(expression, NameExpr):
            return self._name_type(expression, depth)
        if isinstance(expression, MemberExpr):
            return self._member_type(expression, depth)
        if isinstance(expression, CallExpr):
            return self._call_type(expression, depth)
        return None

    def _name_type(self, expression: NameExpr, depth: int) -> ProperType | None:
        node = expression.node
        if isinstance(node, Var):
            if node.type is not None:
                return get_proper_type(node.type)
            local = self._locals.get(node) if self._locals is not None else None
            if local is None:
                return None
            how, value = local
            found = self._type(value, depth + 1)
            return self._entered(found) if how == "with" else found
        return None

    def _member_type(self, expression: MemberExpr, depth: int) -> ProperType | None:
        base = expression.expr
        base_node = base.node if isinstance(base, RefExpr) else None
        if isinstance(base_node, MypyFile):
            node = expression.node
            if isinstance(node, Var) and node.type is not None:
                return get_proper_type(node.type)
            return None
        for receiver in instances(self._type(base, depth + 1)):
            found = self._attribute_type(receiver, expression.name, depth)
            if found is not None:
                return found
        return None

    def _attribute_type(self, receiver: Instance, name: str, depth: int) -> ProperType | None:
        member = receiver.type.get(name)
        node = member.node if member is not None else None
        if isinstance(node, Var):
            if node.type is not None:
                return _seen_from(node.type, receiver, node.info)
            owner = node.info if node.info is not FUNC_NO_INFO else receiver.type
            return self._summaries.attribute_type(owner, name, depth)
        if isinstance(node, Decorator) and node.var.is_property:
            signature = get_proper_type(node.func.type)
            if isinstance(signature, CallableType):
                return _returned(signature, receiver)
        return None

    def in_scope(self, expression: Expression, depth: int) -> ProperType | None:
        """The type of ``expression`` in this function, its locals collected first."""
        self._collect()
        return self._type(expression, depth)

    def _call_type(self, call: CallExpr, depth: int) -> ProperType | None:
        callee = call.callee
        node: SymbolNode | None = None
        receiver: Instance | None = None
        if isinstance(callee, NameExpr):
            node = callee.node
        elif isinstance(callee, MemberExpr):
            base = callee.expr
            base_node = base.node if isinstance(base, RefExpr) else None
            if isinstance(base_node, MypyFile):
                node = callee.node
            elif isinstance(base_node, TypeInfo):
                member = base_node.get(callee.name)
                node = member.node if member is not None else None
            else:
                receiver = next(instances(self._type(base, depth + 1)), None)
                if receiver is None:
                    return None
                member = receiver.type.get(callee.name)
                node = member.node if member is not None else None
        if isinstance(node, TypeInfo):
            return compat.instance_of(node)
        if isinstance(node, Decorator):
            node = node.func if not node.decorators else node.var
        signature = None
        if isinstance(node, (FuncDef, OverloadedFuncDef)):
            signature = get_proper_type(node.type) if node.type is not None else None
        elif isinstance(node, Var) and node.type is not None:
            signature = get_proper_type(node.type)
        if isinstance(signature, Overloaded):
            returned = {str(item.ret_type) for item in signature.items}
            signature = signature.items[0] if len(returned) == 1 else None
        if isinstance(signature, CallableType):
            return _returned(signature, receiver)
        return None

    def _entered(self, manager: ProperType | None) -> ProperType | None:
        """What ``with manager as x`` binds: ``__enter__``'s result (``Self``: the manager)."""
        for instance in instances(manager):
            member = instance.type.get("__enter__")
            node = member.node if member is not None else None
            typ = node.type if isinstance(node, FuncDef) else None
            signature = get_proper_type(typ) if typ is not None else None
            if isinstance(signature, CallableType):
                return _returned(signature, instance)
            return instance
        return None


def _returned(signature: CallableType, receiver: Instance | None) -> ProperType | None:
    """What a call of ``signature`` returns, as an instance when it can be told."""
    returned = get_proper_type(signature.ret_type)
    if isinstance(returned, TypeVarType):
        # ``def __enter__(self: T) -> T`` / ``-> Self``: the receiver itself
        if receiver is not None and signature.arg_types:
            first = get_proper_type(signature.arg_types[0])
            if isinstance(first, TypeVarType) and first.id == returned.id:
                return receiver
            if returned.name == "Self" or returned.fullname.endswith(".Self"):
                return receiver
        return None
    if isinstance(returned, (Instance, UnionType)):
        if receiver is not None and _has_type_variables(returned):
            return get_proper_type(compat.as_seen_from(returned, receiver, receiver.type))
        return returned
    if isinstance(returned, AnyType):
        return None
    return None


def _seen_from(typ: Type, receiver: Instance, info: TypeInfo) -> ProperType:
    found = get_proper_type(typ)
    if info is FUNC_NO_INFO or not _has_type_variables(found):
        return found
    return get_proper_type(compat.as_seen_from(found, receiver, info))


def _has_type_variables(typ: ProperType) -> bool:
    if isinstance(typ, TypeVarType):
        return True
    if isinstance(typ, Instance):
        return any(_has_type_variables(get_proper_type(arg)) for arg in typ.args)
    if isinstance(typ, UnionType):
        return any(_has_type_variables(get_proper_type(item)) for item in typ.items)
    return False
