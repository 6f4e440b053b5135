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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from mypy.nodes import (
    FUNC_NO_INFO,
    CallExpr,
    ClassDef,
    Decorator,
    EllipsisExpr,
    Expression,
    ExpressionStmt,
    FuncDef,
    LambdaExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    PassStmt,
    RaiseStmt,
    RefExpr,
    ReturnStmt,
    StrExpr,
    SymbolNode,
    TypeInfo,
    Var,
    YieldExpr,
)
from mypy.options import Options
from mypy.types import (
    CallableType,
    Instance,
    ProperType,
    get_proper_type,
)

from . import compat, fullnames
from .effect_model import (
    MAX_DEPTH,
    Call,
    Effect,
    FunctionFacts,
    Hop,
    Leaf,
    callee_function,
    decorator_marker,
    marker_leaf,
    module_of,
)
from .effect_walk import (
    EffectWalk,
    InferredCall,
    assignment_statements,
    called_instance,
    sync_functions,
)
from .nodes import function_label, is_async, layer_mode, marker_of

if TYPE_CHECKING:
    from .state import BuildState

__all__ = ["MAX_DEPTH", "Effect", "Hop", "Leaf", "Summaries", "callee_function"]


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
        self._override_cache: dict[str, list[FuncDef]] = {}
        self._provided: dict[str, ProperType | None] = {}
        self._inferred_done: set[str] = set()
        self._products_of: dict[str, dict[str, str]] = {}  # per module: function -> class

    # -- reading effects --

    def effect_of(self, node: SymbolNode | None) -> Effect | None:
        """The effect of calling ``node`` (a function, method, decorated function or class).

        An abstract method (a body of ``...``, ``pass`` or ``raise NotImplementedError``)
        runs one of its overrides: it has the effect of the first of the project's
        overrides that blocks (``permission_class().has_permission(db)``).
        """
        function = callee_function(node)
        if function is None:
            return None
        found = self.effect_by_name(module_of(function), function.fullname)
        if found is None and function.info is not FUNC_NO_INFO and _abstract(function):
            for override in self._overrides(function):
                found = self.effect_by_name(module_of(override), override.fullname)
                if found is not None:
                    break
        return found

    def _overrides(self, method: FuncDef) -> list[FuncDef]:
        """The project's overrides of ``method``, in its subclasses at module level."""
        key = method.fullname
        known = self._override_cache.get(key)
        if known is not None:
            return known
        found: list[FuncDef] = []
        base = method.info.fullname
        for tree in list(self._modules().values()):
            if not self._is_project(tree):
                continue
            for symbol in tree.names.values():
                info = symbol.node
                if (
                    not isinstance(info, TypeInfo)
                    or info is method.info
                    or info.module_name != tree.fullname
                ):
                    continue
                if info.has_base(base):
                    own = info.names.get(method.name)
                    function = callee_function(own.node) if own is not None else None
                    if function is not None:
                        found.append(function)
        self._override_cache[key] = found
        return found

    def provided_type(self, provider: SymbolNode, depth: int) -> ProperType | None:
        """What ``Depends(provider)`` gives: the provider's return (or yield) annotation, else
        what its body returns or yields (``db = SessionLocal(); yield db``)."""
        function = callee_function(provider)
        if function is None:
            if isinstance(provider, TypeInfo):
                return compat.instance_of(provider)
            return None
        key = function.fullname
        if key in self._provided:
            return self._provided[key]
        self._provided[key] = None  # a provider that depends on itself ends here
        signature = get_proper_type(function.type) if function.type is not None else None
        found: ProperType | None = None
        if isinstance(signature, CallableType) and not function.is_dynamic():
            found = _produced(get_proper_type(signature.ret_type))
        if found is None:
            tree = self._modules().get(module_of(function))
            if tree is not None and self._is_project(tree) and not compat.bodies_present(tree):
                found = self._stored_product(tree, key)  # computed while its body was there
            else:
                found = self._product(function, depth)
        self._provided[key] = found
        return found

    def _product(self, function: FuncDef, depth: int) -> Instance | None:
        """What an unannotated function's body returns or yields first, as an instance."""
        walk = EffectWalk(self, function)
        for value in produced_values(function):
            typ = walk.in_scope(value, depth)
            if isinstance(typ, Instance):
                return typ
        return None

    def _products(self, tree: MypyFile, functions: Mapping[str, FunctionFacts]) -> dict[str, str]:
        """The class each unannotated function of ``tree`` returns or yields, by name."""
        found: dict[str, str] = {}
        for function in sync_functions(tree.defs):
            if function.fullname not in functions or not function.is_dynamic():
                continue
            try:
                product = self._product(function, 0)
                called = None if product is not None else self._called(function)
            except (AttributeError, TypeError):  # a node of a shape this mypy has changed
                product = called = None
            if product is not None:
                found[function.fullname] = product.type.fullname
            elif called is not None:
                found[function.fullname] = f"{_CALLED}{called}"
        return found

    def _called(self, function: FuncDef) -> str | None:
        """The module variable whose call the function returns or yields, not typed yet."""
        walk = EffectWalk(self, function)
        for value in produced_values(function):
            name = walk.called_global(value)
            if name is not None:
                return name
        return None

    def _stored_product(self, tree: MypyFile, fullname: str) -> ProperType | None:
        self.ensure(tree)
        name = self._products_of.get(tree.fullname, {}).get(fullname)
        if name is not None and name.startswith(_CALLED):
            symbol = self._state.lookup(name.removeprefix(_CALLED))
            node = symbol.node if symbol is not None else None
            called = get_proper_type(node.type) if isinstance(node, Var) and node.type else None
            return called_instance(called) if isinstance(called, Instance) else None
        info = self._state.type_info(name) if name else None
        return compat.instance_of(info) if info is not None else None

    def inferred_calls_once(self, tree: MypyFile) -> list[tuple[FuncDef, list[InferredCall]]]:
        """Calls on ``Depends``-typed parameters of ``tree``'s async functions; once per build."""
        if tree.fullname in self._inferred_done or not self._is_project(tree):
            return []
        self._inferred_done.add(tree.fullname)
        options = compat.module_options_for(self._options, tree.fullname)
        found = []
        for function in sync_functions(tree.defs):
            if not is_async(function) or not compat.checks_body(function, options):
                continue
            try:
                calls = EffectWalk(self, function).inferred_calls()
            except (AttributeError, TypeError):  # a node of a shape this mypy has changed
                calls = []
            if calls:
                found.append((function, calls))
        return found

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
        products = mine.get("products") if isinstance(mine, dict) else None
        self._products_of[tree.fullname] = {
            str(name): str(cls) for name, cls in (products or {}).items()
        }
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
        functions: dict[str, FunctionFacts] = {}
        pending = [start]
        while pending:
            tree = pending.pop()
            if tree.fullname in group:
                continue
            group[tree.fullname] = tree
            self._done[tree.fullname] = {}  # being solved: what it calls back finds nothing yet
            options = compat.module_options_for(self._options, tree.fullname)
            for function in sync_functions(tree.defs):
                if is_async(function) or not compat.checks_body(function, options):
                    continue
                facts = FunctionFacts(tree.fullname, function_label(function), tree.path)
                try:
                    calls = EffectWalk(self, function).calls()
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
            products = self._products_of[name] = self._products(tree, functions)
            if mine or products:
                self._store(tree, mine, products)

    def _unsolved(self, callee: str) -> MypyFile | None:
        """The module of ``callee`` if it must be solved with the current group."""
        module = self._callee_module.get(callee)
        if module is None or module in self._done or module in self._stored:
            return None
        tree = self._modules().get(module)
        if tree is None or not self._is_project(tree) or not compat.bodies_present(tree):
            return None
        return tree

    def _fixpoint(self, functions: Mapping[str, FunctionFacts]) -> dict[str, Effect]:
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

    def _store(
        self, tree: MypyFile, effects: Mapping[str, Effect], products: Mapping[str, str]
    ) -> None:
        if self._object is None:
            found = self._state.type_info("builtins.object")
            if found is None:
                return
            self._object = found
        metadata = compat.plugin_metadata(tree, fullnames.EFFECTS_SYMBOL, self._object)
        if metadata is not None:
            data = {name: effect.to_data() for name, effect in sorted(effects.items())}
            metadata[fullnames.METADATA_KEY] = {"effects": data, "products": dict(products)}

    # -- what a call in a walked body is --

    def classify_function(
        self, node: SymbolNode | None, fullname: str, first_argument: Instance | None
    ) -> Call | None:
        """A call of a function, class or callable value: blocking, a project call, or neither."""
        state = self._state
        if isinstance(node, Var):
            marker = marker_of(node.type)
            return Call(0, leaf=marker_leaf(node.name, marker)) if marker else None
        if isinstance(node, Decorator):
            marker = decorator_marker(node)
            if marker is not None:
                return Call(0, leaf=marker_leaf(node.name, marker))
        entry = state.catalog_entry(fullname) if fullname else None
        if entry is not None:
            return Call(0, leaf=Leaf(entry.name, entry.category))
        special = fullnames.BLOCKING_WITH.get(fullname)
        if special is not None:
            if first_argument is not None and first_argument.type.has_base(special[0]):
                found = state.catalog_entry(special[1])
                if found is not None:
                    name = f"{fullname}({first_argument.type.name})"
                    return Call(0, leaf=Leaf(name, found.category))
            return None
        if isinstance(node, TypeInfo):
            hit = state.catalog_constructor(node)
            if hit is not None:
                return Call(0, leaf=Leaf(hit[1], hit[0].category))
        return self._project_call(node)

    def classify_method(self, receiver: Instance, method: str) -> Call | None:
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
                return Call(0, leaf=Leaf(f"{info.name}.{method}", mode.role))
            return None
        hit = state.catalog_hit(info, method)
        if hit is not None:
            return Call(0, leaf=Leaf(hit[1], hit[0].category))
        if isinstance(target, Decorator):
            marker = decorator_marker(target)
            if marker is not None:
                return Call(0, leaf=marker_leaf(f"{info.name}.{method}", marker))
        if isinstance(target, Var):
            marker = marker_of(target.type)
            if marker is not None:
                return Call(0, leaf=marker_leaf(f"{info.name}.{method}", marker))
            return None
        return self._project_call(target)

    def is_project_callee(self, node: SymbolNode | None) -> bool:
        """Whether calling ``node`` runs a sync function of the project (whose effect counts)."""
        return self._project_function(node) is not None

    def _project_function(self, node: SymbolNode | None) -> FuncDef | None:
        function = callee_function(node)
        if function is None:
            return None
        module = module_of(function)
        tree = self._modules().get(module)
        if tree is None or not self._is_project(tree):
            return None
        self._callee_module[function.fullname] = module
        return function

    def _project_call(self, node: SymbolNode | None) -> Call | None:
        function = self._project_function(node)
        return Call(0, callee=function.fullname) if function is not None else None

    # -- attributes assigned in methods (``self.repo = repo``), before mypy infers them --

    def assigned_attribute(self, info: TypeInfo, name: str) -> tuple[Expression, FuncDef] | None:
        """The first ``self.<name> = value`` in a method of ``info`` (``__init__`` first)."""
        key = (info.fullname, name)
        if key in self._attributes:
            return self._attributes[key]
        found: tuple[Expression, FuncDef] | None = None
        methods = [f for f in sync_functions(info.defn.defs.body) if f.info is info]
        methods.sort(key=lambda f: f.name != "__init__")
        for method in methods:
            if not method.arguments:
                continue
            self_var = method.arguments[0].variable
            for statement in assignment_statements(method.body.body):
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
            found = EffectWalk(self, method).in_scope(value, depth + 1)
        self._attribute_types[key] = found
        return found


#: What a body holds but does not run: its code runs where it is handed.


def _abstract(function: FuncDef) -> bool:
    """A body that says "an override does it": ``...``, ``pass``, ``raise NotImplementedError``."""
    body = [
        statement
        for statement in function.body.body
        if not (isinstance(statement, ExpressionStmt) and isinstance(statement.expr, StrExpr))
    ]
    if len(body) != 1:
        return False
    only = body[0]
    if isinstance(only, PassStmt):
        return True
    if isinstance(only, ExpressionStmt):
        return isinstance(only.expr, EllipsisExpr)
    if isinstance(only, RaiseStmt) and only.expr is not None:
        raised = only.expr.callee if isinstance(only.expr, CallExpr) else only.expr
        return isinstance(raised, RefExpr) and raised.fullname == "builtins.NotImplementedError"
    return False


#: A stored product that is the call of a module variable (typed once the module is checked).
_CALLED: Final = "call:"

#: Generic classes whose first argument is what a provider yields.
_YIELDING: Final = frozenset(
    {
        "typing.Generator",
        "typing.Iterator",
        "typing.Iterable",
        "typing.AsyncGenerator",
        "typing.AsyncIterator",
        "typing.AsyncIterable",
        "collections.abc.Generator",
        "collections.abc.Iterator",
        "collections.abc.AsyncGenerator",
        "collections.abc.AsyncIterator",
    }
)


def _produced(returned: ProperType) -> ProperType | None:
    """A provider's annotated result, unwrapped from its generator or coroutine type."""
    if isinstance(returned, Instance):
        if returned.type.fullname in _YIELDING and returned.args:
            inner = get_proper_type(returned.args[0])
            return inner if isinstance(inner, Instance) else None
        if returned.type.fullname == "typing.Coroutine" and len(returned.args) == 3:
            inner = get_proper_type(returned.args[2])
            return inner if isinstance(inner, Instance) else None
        return returned
    return None


def produced_values(function: FuncDef) -> list[Expression]:
    """The expressions a function's body returns or yields, in source order."""
    found: list[Expression] = []
    pending: list[Node] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, (FuncDef, Decorator, LambdaExpr, ClassDef)):
            continue
        if isinstance(node, (ReturnStmt, YieldExpr)) and node.expr is not None:
            found.append(node.expr)
        pending.extend(reversed(compat.children(node)))
    return found
