"""Blocking effects that propagate: which of the project's sync functions block, and through what.

A ``def`` function or method that makes a blocking call (a catalogue entry,
a ``@blocking``/``@cpu_bound`` callable, a method of a sync layer), or calls
a function of the project that does, is itself blocking, whatever its name.
Its *effect* is the shortest chain of calls from it to that blocking call,
each link with its file and line; ``call_checks`` reports an ``async def``
that calls it without an offload, showing the chain.

How effects are found.  mypy checks a module's function bodies once and then
frees them, so the effects of a module are computed while its bodies are in
memory, by this module's own walk over them (`Summaries.ensure`): every sync
function of the module is walked once, its calls resolved with the types
mypy gave the names they use (parameters, attributes, variables of modules
already checked) or, where mypy has not inferred them yet, with a small
inference of its own (``x = Repo(...)``, ``with Session(...) as s``,
``self.repo = repo``).  Calls into another project module read that
module's effects; calls into modules of the same import cycle are solved
together.  Within that group the effects are a fixpoint: each function takes
the shortest chain among its calls (a direct blocking call first, then the
first in source order), chains longer than `MAX_DEPTH` functions are
dropped, and recursion adds nothing.

Where effects live.  A module's effects are stored in the metadata of the
plugin's own symbol in that module (``fullnames.EFFECTS_SYMBOL``), which mypy
serialises with the module's symbol table.  So they are written to the
cache with the module, read back when the module comes from the cache, and
part of its interface hash: when a helper's body changes what it reaches,
the modules that depend on it are checked again.  They are computed before
mypy writes the module: when the first hook of the plugin runs in the
module's bodies (the module cannot block if none does: every blocking call
is a call the plugin hooks), or when mypy reports the plugin's data for the
module it is about to write (mypy 2 writes a module's interface before it
checks the bodies).

What is not followed: code of installed packages and stubs (summarised by
the catalogue only), ``async def`` functions (they are awaited), calls in a
lambda or a nested function (that code runs where it is handed: an offload),
calls through values typed ``Any``, and bodies mypy does not check
(unannotated functions without ``check_untyped_defs``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

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
from mypy.options import Options
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

from . import compat, fullnames
from .nodes import decorator_name, function_label, instances, is_async, layer_mode, marker_of

if TYPE_CHECKING:
    from .state import BuildState

__all__ = ["MAX_DEPTH", "Effect", "Hop", "Leaf", "Summaries", "callee_function"]

#: The most functions of the project a chain goes through before the blocking call.
MAX_DEPTH: Final = 8
#: How deep the inference of an expression's type looks (``a.b.c()`` is 3).
_INFER_DEPTH: Final = 12


@dataclass(frozen=True)
class Hop:
    """A function of the chain, and the line where it makes the next call."""

    label: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.label} ({compat.shown_path(self.path)}:{self.line})"


@dataclass(frozen=True)
class Leaf:
    """What blocks at the end of a chain: its name and its kind.

    ``kind`` is the catalogue category (``db``, ``cpu`` ...), the marker
    (``@blocking``, ``@cpu_bound``) or a sync layer's role (``sync repository``).
    """

    name: str
    kind: str

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def is_cpu(self) -> bool:
        """CPU work: the fix is a worker process rather than a thread."""
        return self.kind in ("cpu", "@cpu_bound")


@dataclass(frozen=True)
class Effect:
    """A blocking function's chain: its own call first, down to the leaf."""

    hops: tuple[Hop, ...]
    leaf: Leaf

    def to_data(self) -> list[Any]:
        """JSON data for mypy's cache: ``[[[label, path, line], ...], [name, kind]]``."""
        return [[[h.label, h.path, h.line] for h in self.hops], [self.leaf.name, self.leaf.kind]]

    @classmethod
    def from_data(cls, data: Any) -> Effect | None:
        """An effect read back from the cache (``None``: not data `to_data` wrote)."""
        try:
            hops, (name, kind) = data
            return cls(
                tuple(Hop(str(label), str(path), int(line)) for label, path, line in hops),
                Leaf(str(name), str(kind)),
            )
        except (TypeError, ValueError):
            return None

    def through(self, hop: Hop) -> Effect:
        """This effect as seen from a caller: ``hop`` first."""
        return Effect((hop, *self.hops), self.leaf)


#: A call the walk found: the line, and either what blocks there or the function it calls.
@dataclass(frozen=True)
class _Call:
    line: int
    leaf: Leaf | None = None
    callee: str | None = None


@dataclass
class _Function:
    """A sync function of the group being solved: where it is and what it calls."""

    module: str
    label: str
    path: str
    calls: list[_Call] = field(default_factory=list)


def callee_function(node: SymbolNode | None) -> FuncDef | None:
    """The sync ``def`` a callee node runs when called (a class: its ``__init__``)."""
    if isinstance(node, TypeInfo):
        init = node.get("__init__")
        node = init.node if init is not None else None
    if isinstance(node, Decorator):
        node = node.func
    if isinstance(node, OverloadedFuncDef):
        impl = node.impl
        node = impl.func if isinstance(impl, Decorator) else impl
    if isinstance(node, FuncDef) and not is_async(node):
        return node
    return None


def _module_of(function: FuncDef) -> str:
    if function.info is not FUNC_NO_INFO:
        return function.info.module_name
    return function.fullname.rpartition(".")[0]


class Summaries:
    """The effects of the project's functions during one build (see the module docstring).

    ``modules`` is every module of the build by name; ``options`` the global
    options (each module's are derived from them).
    """

    def __init__(
        self,
        state: BuildState,
        modules: Callable[[], Mapping[str, MypyFile]],
        options: Options,
    ) -> None:
        self._state = state
        self._modules = modules
        self._options = options
        # per module: the effects solved in this build, or the data read from the module
        self._done: dict[str, dict[str, Effect]] = {}
        self._stored: dict[str, Mapping[str, object]] = {}
        self._read_back: dict[str, Effect | None] = {}
        # the module of each project function a walked call reached
        self._callee_module: dict[str, str] = {}
        self._object: TypeInfo | None = None
        self._project: dict[str, bool] = {}
        self._attributes: dict[tuple[str, str], tuple[Expression, FuncDef] | None] = {}
        self._attribute_types: dict[tuple[str, str], ProperType | None] = {}

    # -- reading effects --

    def effect_of(self, node: SymbolNode | None) -> Effect | None:
        """The effect of calling ``node`` (a function, method, decorated function or class)."""
        function = callee_function(node)
        if function is None:
            return None
        return self.effect_by_name(_module_of(function), function.fullname)

    def effect_by_name(self, module: str, fullname: str) -> Effect | None:
        """The effect of the function ``fullname`` of ``module`` (``None``: it does not block)."""
        done = self._done.get(module)
        if done is not None:
            return done.get(fullname)
        stored = self._stored.get(module)
        if stored is None:
            tree = self._modules().get(module)
            if tree is None or not self._is_project(tree):
                self._done[module] = {}
                return None
            if compat.bodies_present(tree):
                self.ensure(tree)
                return self._done.get(module, {}).get(fullname)
            stored = self._read(tree)
        if fullname not in self._read_back:
            data = stored.get(fullname)
            self._read_back[fullname] = Effect.from_data(data) if data is not None else None
        return self._read_back[fullname]

    def _read(self, tree: MypyFile) -> Mapping[str, object]:
        """The effects stored in a module (read from the cache, or freed after its check)."""
        metadata = compat.plugin_metadata(tree, fullnames.EFFECTS_SYMBOL, None)
        mine = metadata.get(fullnames.METADATA_KEY) if metadata is not None else None
        effects = mine.get("effects") if isinstance(mine, dict) else None
        stored: Mapping[str, object] = effects if isinstance(effects, dict) else {}
        self._stored[tree.fullname] = stored
        return stored

    def _is_project(self, tree: MypyFile) -> bool:
        """The project's own module (not installed, not a stub, not this library)."""
        known = self._project.get(tree.fullname)
        if known is None:
            known = self._project[tree.fullname] = compat.is_project_module(tree) and not (
                tree.fullname == fullnames.LIB or tree.fullname.startswith(f"{fullnames.LIB}.")
            )
        return known

    # -- computing them --

    def ensure(self, tree: MypyFile) -> None:
        """Compute and store the effects of ``tree``'s functions, unless done in this build.

        Called when a module is being checked (its bodies in memory); a module
        whose bodies are gone already has what it will ever have.
        """
        name = tree.fullname
        if name in self._done or name in self._stored:
            return
        if not self._is_project(tree):
            self._done[name] = {}
        elif compat.bodies_present(tree):
            self._solve(tree)
        else:
            self._read(tree)

    def _solve(self, start: MypyFile) -> None:
        """Walk ``start`` and the unsolved project modules it calls into; solve them together."""
        group: dict[str, MypyFile] = {}
        functions: dict[str, _Function] = {}
        pending = [start]
        while pending:
            tree = pending.pop()
            if tree.fullname in group:
                continue
            group[tree.fullname] = tree
            self._done[tree.fullname] = {}  # being solved: what it calls back finds nothing yet
            options = compat.module_options_for(self._options, tree.fullname)
            for function in _functions(tree.defs):
                if is_async(function) or not compat.checks_body(function, options):
                    continue
                facts = _Function(tree.fullname, function_label(function), tree.path)
                try:
                    calls = _Walk(self, function).calls()
                except (AttributeError, TypeError):  # a node of a shape this mypy has changed
                    calls = []
                for call in calls:
                    facts.calls.append(call)
                    if call.callee is None:
                        continue
                    other = self._unsolved(call.callee)
                    if other is not None and other.fullname not in group:
                        pending.append(other)
                functions[function.fullname] = facts
        effects = self._fixpoint(functions)
        for name, tree in group.items():
            mine = {
                function: effect
                for function, effect in effects.items()
                if functions[function].module == name
            }
            self._done[name] = mine
            if mine:
                self._store(tree, mine)

    def _unsolved(self, callee: str) -> MypyFile | None:
        """The module of ``callee`` if it must be solved with the current group."""
        module = self._callee_module.get(callee)
        if module is None or module in self._done or module in self._stored:
            return None
        tree = self._modules().get(module)
        if tree is None or not self._is_project(tree) or not compat.bodies_present(tree):
            return None
        return tree

    def _fixpoint(self, functions: Mapping[str, _Function]) -> dict[str, Effect]:
        """The shortest chain of each function: direct blocking calls, then through callees.

        Each round recomputes every function from the previous round's chains,
        keeping the first call (in source order) of the shortest length, so the
        result does not depend on the order the functions were walked in.
        """
        effects: dict[str, Effect] = {}
        for name, facts in functions.items():
            for call in facts.calls:
                if call.leaf is not None:
                    effects[name] = Effect((Hop(facts.label, facts.path, call.line),), call.leaf)
                    break
        direct = set(effects)
        outside: dict[str, Effect | None] = {}
        while True:
            found_now = dict(effects)
            for name, facts in functions.items():
                if name in direct:
                    continue
                best: Effect | None = None
                for call in facts.calls:
                    if call.callee is None:
                        continue
                    if call.callee in functions:
                        found = effects.get(call.callee)
                    else:
                        if call.callee not in outside:
                            outside[call.callee] = self._outside(call.callee)
                        found = outside[call.callee]
                    if found is None or len(found.hops) >= MAX_DEPTH:
                        continue
                    if best is None or len(found.hops) + 1 < len(best.hops):
                        best = found.through(Hop(facts.label, facts.path, call.line))
                if best is not None:
                    found_now[name] = best
            if found_now == effects:
                return effects
            effects = found_now

    def _outside(self, callee: str) -> Effect | None:
        module = self._callee_module.get(callee)
        return self.effect_by_name(module, callee) if module is not None else None

    def _store(self, tree: MypyFile, effects: Mapping[str, Effect]) -> None:
        if self._object is None:
            found = self._state.type_info("builtins.object")
            if found is None:
                return
            self._object = found
        metadata = compat.plugin_metadata(tree, fullnames.EFFECTS_SYMBOL, self._object)
        if metadata is not None:
            data = {name: effect.to_data() for name, effect in sorted(effects.items())}
            metadata[fullnames.METADATA_KEY] = {"effects": data}

    # -- what a call in a walked body is --

    def classify_function(
        self, node: SymbolNode | None, fullname: str, first_argument: Instance | None
    ) -> _Call | None:
        """A call of a function, class or callable value: blocking, a project call, or neither."""
        state = self._state
        if isinstance(node, Var):
            marker = marker_of(node.type)
            return _Call(0, leaf=_marker_leaf(node.name, marker)) if marker else None
        if isinstance(node, Decorator):
            marker = _decorator_marker(node)
            if marker is not None:
                return _Call(0, leaf=_marker_leaf(node.name, marker))
        entry = state.catalog_entry(fullname) if fullname else None
        if entry is not None:
            return _Call(0, leaf=Leaf(entry.name, entry.category))
        special = fullnames.BLOCKING_WITH.get(fullname)
        if special is not None:
            if first_argument is not None and first_argument.type.has_base(special[0]):
                found = state.catalog_entry(special[1])
                if found is not None:
                    name = f"{fullname}({first_argument.type.name})"
                    return _Call(0, leaf=Leaf(name, found.category))
            return None
        if isinstance(node, TypeInfo):
            hit = state.catalog_constructor(node)
            if hit is not None:
                return _Call(0, leaf=Leaf(hit[1], hit[0].category))
        return self._project_call(node)

    def classify_method(self, receiver: Instance, method: str) -> _Call | None:
        """A call of ``method`` on an instance of ``receiver``'s class."""
        state = self._state
        info = receiver.type
        member = info.get(method)
        target = member.node if member is not None else None
        mode = layer_mode(info)
        if mode is not None and mode.mode == "sync":
            if isinstance(target, Var) and target.is_property:
                return None
            if target is not None and not is_async(target):
                return _Call(0, leaf=Leaf(f"{info.name}.{method}", mode.role))
            return None
        hit = state.catalog_hit(info, method)
        if hit is not None:
            return _Call(0, leaf=Leaf(hit[1], hit[0].category))
        if isinstance(target, Decorator):
            marker = _decorator_marker(target)
            if marker is not None:
                return _Call(0, leaf=_marker_leaf(f"{info.name}.{method}", marker))
        if isinstance(target, Var):
            marker = marker_of(target.type)
            if marker is not None:
                return _Call(0, leaf=_marker_leaf(f"{info.name}.{method}", marker))
            return None
        return self._project_call(target)

    def is_project_callee(self, node: SymbolNode | None) -> bool:
        """Whether calling ``node`` runs a sync function of the project (whose effect counts)."""
        return self._project_function(node) is not None

    def _project_function(self, node: SymbolNode | None) -> FuncDef | None:
        function = callee_function(node)
        if function is None:
            return None
        module = _module_of(function)
        tree = self._modules().get(module)
        if tree is None or not self._is_project(tree):
            return None
        self._callee_module[function.fullname] = module
        return function

    def _project_call(self, node: SymbolNode | None) -> _Call | None:
        function = self._project_function(node)
        return _Call(0, callee=function.fullname) if function is not None else None

    # -- attributes assigned in methods (``self.repo = repo``), before mypy infers them --

    def assigned_attribute(self, info: TypeInfo, name: str) -> tuple[Expression, FuncDef] | None:
        """The first ``self.<name> = value`` in a method of ``info`` (``__init__`` first)."""
        key = (info.fullname, name)
        if key in self._attributes:
            return self._attributes[key]
        found: tuple[Expression, FuncDef] | None = None
        methods = [f for f in _functions(info.defn.defs.body) if f.info is info]
        methods.sort(key=lambda f: f.name != "__init__")
        for method in methods:
            if not method.arguments:
                continue
            self_var = method.arguments[0].variable
            for statement in _assignments(method.body.body):
                for lvalue in statement.lvalues:
                    if (
                        isinstance(lvalue, MemberExpr)
                        and lvalue.name == name
                        and isinstance(lvalue.expr, NameExpr)
                        and lvalue.expr.node is self_var
                    ):
                        found = (statement.rvalue, method)
                        break
                if found:
                    break
            if found:
                break
        self._attributes[key] = found
        return found

    def attribute_type(self, info: TypeInfo, name: str, depth: int) -> ProperType | None:
        """The type of attribute ``name`` of ``info``, from its first ``self.<name> = value``."""
        key = (info.fullname, name)
        if key in self._attribute_types:
            return self._attribute_types[key]
        self._attribute_types[key] = None  # a cycle (self.a = self.b; self.b = self.a) ends here
        assigned = self.assigned_attribute(info, name)
        found = None
        if assigned is not None:
            value, method = assigned
            found = _Walk(self, method).in_scope(value, depth + 1)
        self._attribute_types[key] = found
        return found


#: What a body holds but does not run: its code runs where it is handed.
_ELSEWHERE = (FuncDef, Decorator, OverloadedFuncDef, LambdaExpr, ClassDef)


def _marker_leaf(name: str, marker: str) -> Leaf:
    return Leaf(name, marker)


def _decorator_marker(node: Decorator) -> str | None:
    """``@blocking``/``@cpu_bound`` on a decorated function, from its type or its decorators."""
    marker = marker_of(node.var.type)
    if marker is not None:
        return marker
    for expression in node.original_decorators:
        name = decorator_name(expression)
        if name in fullnames.MARKER_TYPES:
            return "@cpu_bound" if name == fullnames.CPU_BOUND else "@blocking"
    return None


def _functions(statements: Iterable[object]) -> Iterator[FuncDef]:
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
            yield from _functions(statement.defs.body)
        elif not isinstance(statement, Expression):
            yield from _functions(compat.inner_statements(statement))


def _assignments(statements: Iterable[object]) -> Iterator[AssignmentStmt]:
    """The assignments in ``statements`` and the blocks inside them (not nested functions)."""
    for statement in statements:
        if isinstance(statement, AssignmentStmt):
            yield statement
        elif not isinstance(statement, (FuncDef, Decorator, ClassDef, Expression)):
            yield from _assignments(compat.inner_statements(statement))


class _Walk:
    """One sync function's body: its calls, and the local values their receivers come from.

    Nested functions, lambdas and classes are not entered: their code runs
    where it is handed (an offload), not when the function runs.
    """

    def __init__(self, summaries: Summaries, function: FuncDef) -> None:
        self._summaries = summaries
        self._function = function
        self._found: list[CallExpr] = []
        self._locals: dict[Var, tuple[str, Expression]] | None = None

    def calls(self) -> list[_Call]:
        """What each call of the body is, in source order (only those that matter)."""
        self._collect()
        found = []
        for call in sorted(self._found, key=lambda c: (c.line, c.column)):
            kind = self._classify(call)
            if kind is not None:
                found.append(_Call(call.line, kind.leaf, kind.callee))
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

    def _classify(self, call: CallExpr) -> _Call | None:
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
