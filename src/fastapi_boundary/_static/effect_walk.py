"""The walk over one sync function's body: the calls it makes, resolved with mypy's types.

`effects.Summaries` runs it on each sync function of a module while mypy still has the bodies
in memory; what it finds (`Call`) is what the summaries solve into effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final, TypeAlias

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

__all__ = [
    "DEPENDS",
    "EffectWalk",
    "InferredCall",
    "assignment_statements",
    "called_instance",
    "provided_parameters",
    "sync_functions",
]

#: A call on a ``Depends``-typed parameter: the call, its receiver's type, what it is.
InferredCall: TypeAlias = "tuple[CallExpr, ProperType | None, Call]"

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
        self._provided = provided_parameters(function)

    def inferred_calls(self) -> list[InferredCall]:
        """Calls on a parameter mypy types ``Any``, typed here by its ``Depends(provider)``.

        mypy runs no hook for a method of an ``Any`` receiver: ``session.commit()``
        on an unannotated ``session=Depends(get_session)`` is only seen here.  Each
        comes with its receiver's type (``None`` when the callee is not a method).
        """
        if not self._provided:
            return []
        self._collect()
        found = []
        for call in sorted(self._found, key=lambda c: (c.line, c.column)):
            callee = call.callee
            if not isinstance(callee, MemberExpr) or _root(callee) not in self._provided:
                continue
            kind = self._classify(call)
            if kind is not None:
                found.append((call, self._type(callee.expr, 0), kind))
        return found

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
            provider = self._provided.get(node)
            if provider is not None and _untyped(node):
                return self._summaries.provided_type(provider, depth + 1)
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

    def called_global(self, expression: Expression) -> str | None:
        """The module-level variable whose call ``expression`` is (through locals and ``with``).

        ``db = SessionLocal()`` or ``with SessionLocal() as db``, where mypy has not
        inferred ``SessionLocal`` yet: its name, to type the call once it has.
        """
        self._collect()
        for _ in range(_INFER_DEPTH):
            if isinstance(expression, NameExpr) and isinstance(expression.node, Var):
                local = self._locals.get(expression.node) if self._locals is not None else None
                if local is None:
                    return None
                expression = local[1]
            elif isinstance(expression, CallExpr) and isinstance(expression.callee, RefExpr):
                node = expression.callee.node
                if isinstance(node, Var) and "." in node.fullname:
                    return node.fullname
                return None
            else:
                return None
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
        if isinstance(node, Var) and node.type is not None:
            called = get_proper_type(node.type)
            if isinstance(called, Instance) and not isinstance(callee, MemberExpr):
                return called_instance(called)
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


#: ``Depends`` and ``Security`` under the names mypy resolves them to.
DEPENDS: Final = frozenset(
    {
        "fastapi.param_functions.Depends",
        "fastapi.param_functions.Security",
        "fastapi.Depends",
        "fastapi.Security",
    }
)


def provided_parameters(function: FuncDef) -> dict[Var, SymbolNode]:
    """Each parameter whose default is ``Depends(provider)``, with the provider's node."""
    found: dict[Var, SymbolNode] = {}
    for argument in function.arguments:
        default = argument.initializer
        if (
            isinstance(default, CallExpr)
            and isinstance(default.callee, RefExpr)
            and default.callee.fullname in DEPENDS
            and default.args
            and isinstance(default.args[0], RefExpr)
            and default.args[0].node is not None
        ):
            found[argument.variable] = default.args[0].node
    return found


def _untyped(var: Var) -> bool:
    return var.type is None or isinstance(get_proper_type(var.type), AnyType)


def _root(expression: Expression) -> SymbolNode | None:
    """The variable an attribute chain starts from (``session`` in ``session.a.b``)."""
    while isinstance(expression, MemberExpr):
        expression = expression.expr
    while isinstance(expression, CallExpr) and isinstance(expression.callee, MemberExpr):
        expression = expression.callee.expr
        while isinstance(expression, MemberExpr):
            expression = expression.expr
    return expression.node if isinstance(expression, NameExpr) else None


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


def called_instance(instance: Instance) -> ProperType | None:
    """What calling an instance returns (``SessionLocal()``, a ``sessionmaker[Session]``)."""
    member = instance.type.get("__call__")
    node = member.node if member is not None else None
    if isinstance(node, Decorator):
        node = node.func
    signature = get_proper_type(node.type) if isinstance(node, FuncDef) and node.type else None
    if not isinstance(signature, CallableType) or not isinstance(node, FuncDef):
        return None
    returned = get_proper_type(signature.ret_type)
    if isinstance(returned, TypeVarType) and node.info is not FUNC_NO_INFO:
        found = get_proper_type(compat.as_seen_from(returned, instance, node.info))
        return found if isinstance(found, Instance) else None
    return _returned(signature, instance)


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
