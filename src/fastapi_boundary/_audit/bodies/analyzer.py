"""The analysis: the functions on the loop, each walked once, with memoised helper summaries."""

from __future__ import annotations

import contextlib
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import typing_extensions

from ..._common.modes import Mode
from ..._common.modules import loaded_module
from ..._common.sites import Site, display_name, site_of
from .. import annotations as refs
from .resolve import (
    BUILTIN_RESULTS,
    app_init,
    builtin_method_result,
    element_of,
    evaluate_annotation,
    hashable,
    sourceless_app_function,
)
from .sources import function_node, is_app_function, is_app_object, unwrapped
from .summaries import MAX_DEPTH, ROLES, LoopFunction, Summary
from .values import NONE, Inst, Obj, Unknown, Value, class_of, first_useful, memo_key, useful
from .walk import Walk

_UNION_TYPE: object = getattr(types, "UnionType", None)
_SELF_TYPES: tuple[object, ...] = tuple(
    {getattr(typing, "Self", None), typing_extensions.Self} - {None}
)


# --- the analysis ----------------------------------------------------------------------------


class Analyzer:
    """One audit's body analysis: the functions on the loop, their findings and what was missed.

    Register the roots (`add`), then `run`.  Everything is memoised for the
    audit: a helper's analysis per argument types, a class's attributes, a
    provider's value, an annotation's value.
    """

    def __init__(self) -> None:
        self.functions: dict[object, LoopFunction] = {}
        self._pending: list[LoopFunction] = []
        self.state: dict[str, Value] = {}
        self.calls: set[tuple[str, int, int]] = set()
        self.unresolved: dict[tuple[str, int, int], str] = {}
        self.not_followed: dict[str, Site] = {}
        self.no_source: dict[str, str] = {}
        self.helpers: set[types.CodeType] = set()
        self._summaries: dict[object, tuple[int, Summary | None]] = {}
        self._running: set[types.CodeType] = set()
        self._attrs: dict[type, dict[str, Value]] = {}
        self._providers: dict[int, tuple[object, Value | None]] = {}
        self._annotations: dict[tuple[int, int], Value | None] = {}
        self._keep: list[object] = []  # objects whose ids are memo keys stay alive
        self._quiet = 0  # > 0 while a body is read for a value only: nothing is counted

    @contextlib.contextmanager
    def quietly(self) -> Iterator[None]:
        """Read bodies for what they return or set, not as code on the loop: count nothing.

        A provider run in the threadpool, a constructor FastAPI calls there, an
        ``async def`` read for its return value (it is analysed on its own).
        """
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @property
    def counting(self) -> bool:
        return not self._quiet

    # --- functions on the loop ---------------------------------------------------------

    def add(
        self,
        func: Any,
        receiver: Value | None,
        role: str,
        mode: Mode = Mode.ASYNC,
        bound: Mapping[str, Value] | None = None,
    ) -> LoopFunction | None:
        """A function the app runs on the loop (``None`` when it is not the app's own code).

        ``bound`` gives parameters the framework passes (a middleware's
        ``request`` and ``call_next``), by name.  A function compiled from a
        string (``exec``) whose module is not a library's counts: it is the
        app's, and it has no source to read.
        """
        if not is_app_object(func) and not sourceless_app_function(func):
            return None
        key = (id(func), memo_key(receiver))
        found = self.functions.get(key)
        if found is not None:
            if ROLES.index(role) < ROLES.index(found.role):
                found.role, found.mode = role, mode
            return found
        self._keep.append(func)
        loop = LoopFunction(func, receiver, role, mode, bound=dict(bound or {}))
        self.functions[key] = loop
        self._pending.append(loop)
        return loop

    def run(self) -> None:
        """Analyse every function registered, and every one they start, in order."""
        while self._pending:
            loop = self._pending.pop(0)
            try:
                self._analyse(loop)
            except RecursionError:
                loop.reason = "too deeply nested to analyse"
            except Exception as error:  # never crash the audit on odd code
                loop.reason = f"could not be analysed ({type(error).__name__}: {error})"

    def _analyse(self, loop: LoopFunction) -> None:
        func = unwrapped(loop.func)
        code = getattr(func, "__code__", None)
        if not isinstance(code, types.CodeType):
            loop.reason = "a C extension: no Python source"
            self.no_source[f"{loop.name} ({loop.site})"] = "C extension"
            return
        node = function_node(code)
        if node is None:
            loop.reason = "no source"
            self.no_source[f"{loop.name} ({loop.site})"] = "no source"
            return
        walk = Walk(self, func, node, loop.receiver, depth=0, bound=loop.bound)
        walk.run()
        loop.analysed = True
        loop.hits = walk.summary.hits
        loop.yields = walk.summary.yields
        loop.callees = [callee for callee in walk.summary.started if callee is not loop]
        if loop.role == "lifespan":  # what it yields is each request's request.state
            for value in loop.yields:
                if isinstance(value, Inst) and value.attrs:
                    for name, item in value.attrs.items():
                        self.state.setdefault(name, item)

    # --- helpers: the app's own sync code, followed ------------------------------------

    def summary(
        self, func: Any, receiver: Value | None, bound: Mapping[str, Value], depth: int
    ) -> Summary | None:
        """What a helper's body does with these arguments; ``None`` when it has no source."""
        func = unwrapped(func)
        code = func.__code__
        arguments = tuple(sorted((k, memo_key(v)) for k, v in bound.items()))
        key = (id(code), memo_key(receiver), arguments, self.counting)
        budget = MAX_DEPTH - depth
        known = self._summaries.get(key)
        if known is not None and known[0] >= budget:
            return known[1]
        if code in self._running:
            return Summary()  # recursion: what it does is being found out already
        node = function_node(code)
        if node is None:
            if self.counting:
                self.no_source[f"{display_name(func)} ({site_of(func)})"] = "no source"
            self._summaries[key] = (MAX_DEPTH, None)
            return None
        self._keep.append(func)
        if self.counting:
            self.helpers.add(code)
        self._running.add(code)
        try:
            walk = Walk(self, func, node, receiver, depth=depth, bound=bound)
            walk.run()
        finally:
            self._running.discard(code)
        self._summaries[key] = (budget, walk.summary)
        return walk.summary

    # --- classes, providers, annotations -----------------------------------------------

    def init_attrs(self, cls: type) -> dict[str, Value]:
        """The attributes a class's ``__init__`` sets, with its parameters' declared types."""
        known = self._attrs.get(cls)
        if known is not None:
            return known
        self._attrs[cls] = {}  # while it is computed (a constructor naming its own class)
        attrs: dict[str, Value] = {}
        init = app_init(cls)
        if init is not None:
            with self.quietly():
                summary = self.summary(init, Inst(cls), {}, MAX_DEPTH - 1)
            if summary is not None:
                attrs = summary.self_attrs
        self._attrs[cls] = attrs
        return attrs

    def provider_value(self, provider: object) -> Value | None:
        """What a ``Depends`` provider hands out: its return annotation, else what its body does."""
        known = self._providers.get(id(provider))
        if known is not None and known[0] is provider:
            return known[1]
        self._providers[id(provider)] = (provider, None)  # a provider that depends on itself
        value = self._provider_value(provider)
        self._providers[id(provider)] = (provider, value)
        return value

    def _provider_value(self, provider: object) -> Value | None:
        if inspect.isclass(provider):
            return Inst(provider, attrs=None)
        target: Any = provider
        if not inspect.isroutine(target):
            call = getattr(type(target), "__call__", None)  # noqa: B004 - an instance
            if call is None:
                return None
            target = call
        with contextlib.suppress(ValueError):
            target = inspect.unwrap(target)
        annotations = getattr(target, "__annotations__", None)
        generator = inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target)
        if isinstance(annotations, dict) and "return" in annotations:
            value = self.annotation(annotations["return"], target)
            if generator or (isinstance(value, Inst) and value.cls in refs.ITERATORS):
                value = element_of(value) if value is not None else None
            if useful(value):
                return value
        if is_app_function(target):
            with self.quietly():
                summary = self.summary(target, None, {}, MAX_DEPTH - 2)
            if summary is not None:
                return summary.result(generator)
        return None

    def annotation(
        self, annotation: object, owner: Any, receiver: Value | None = None
    ) -> Value | None:
        """The value an annotation of ``owner`` (a function or class) describes."""
        if receiver is None:
            key = (id(annotation), id(owner))
            if key in self._annotations:
                return self._annotations[key]
            value = self._annotation(annotation, owner, None, 0)
            self._annotations[key] = value
            self._keep.extend((annotation, owner))
            return value
        return self._annotation(annotation, owner, receiver, 0)

    def _annotation(
        self, annotation: object, owner: Any, receiver: Value | None, depth: int
    ) -> Value | None:
        if depth > 6 or annotation is None or annotation is inspect.Parameter.empty:
            return None
        if isinstance(annotation, str):
            evaluated = evaluate_annotation(annotation, refs.module_of(owner))
            if isinstance(evaluated, refs.Unresolved):
                return Unknown(f"annotation {annotation!r} cannot be evaluated")
            annotation = evaluated
        if annotation is typing.Any:
            return Unknown("annotated Any")
        if annotation is type(None):
            return NONE
        if annotation in _SELF_TYPES or isinstance(annotation, typing.TypeVar):
            if receiver is None:
                return Unknown("a type variable")
            if isinstance(receiver, Obj) and inspect.isclass(receiver.value):
                return Inst(receiver.value)
            return receiver
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self._annotation(args[0], owner, receiver, depth + 1) if args else None
        if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
            members = [a for a in args if a is not type(None)]
            values = [self._annotation(m, owner, receiver, depth + 1) for m in members]
            found = first_useful(v for v in values if v is not None)
            return found if found is not None else Unknown("a union of unknown types")
        if origin is not None and inspect.isclass(origin):
            if origin in refs.AWAITABLES and args:
                return self._annotation(args[-1], owner, receiver, depth + 1)
            if origin.__name__ == "Mapped" and args:  # SQLAlchemy's Mapped[int]: an int
                return self._annotation(args[0], owner, receiver, depth + 1)
            if origin is type and args:
                inner = args[0]
                return Obj(inner) if inspect.isclass(inner) else Unknown("a type")
            converted: list[Value] = []
            for arg in args:
                if isinstance(arg, (list, tuple)) or arg is Ellipsis:
                    continue
                item = self._annotation(arg, owner, receiver, depth + 1)
                converted.append(item if item is not None else Unknown("an unknown type"))
            return Inst(origin, tuple(converted))
        if inspect.isclass(annotation):
            return Inst(annotation)
        return Unknown(f"annotated {annotation!r}"[:80])

    def returns(self, func: Any, receiver: Value | None) -> Value | None:
        """A library callable's result, by its return annotation (or what is known of it)."""
        special = BUILTIN_RESULTS.get(func) if hashable(func) else None
        if special is not None:
            return Inst(special)
        if getattr(func, "__name__", None) in ("get_running_loop", "get_event_loop"):
            events = loaded_module("asyncio.events")
            loop = getattr(events, "AbstractEventLoop", None)
            if isinstance(loop, type) and getattr(func, "__module__", "") in (
                "asyncio",
                "_asyncio",
                "asyncio.events",
            ):
                return Inst(loop)
        if inspect.ismethoddescriptor(func) or isinstance(func, types.BuiltinFunctionType):
            owner = getattr(func, "__objclass__", None) or class_of(receiver or NONE)
            if isinstance(owner, type):
                found = builtin_method_result(owner, getattr(func, "__name__", ""))
                if found is not None:
                    return found
        annotations = getattr(func, "__annotations__", None)
        if not isinstance(annotations, dict) or "return" not in annotations:
            return None
        found = self.annotation(annotations["return"], func, receiver)
        if isinstance(found, Unknown):  # say whose result it is
            return Unknown(f"what {display_name(func)}() returns, {found.reason}")
        return found
