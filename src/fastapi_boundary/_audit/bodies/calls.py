"""How a walk evaluates calls: the catalogue, markers, sync layers, the app's own code followed."""

from __future__ import annotations

import ast
import collections.abc
import functools
import inspect
import types
from collections.abc import Mapping
from typing import Any

from ..._common import catalog, fixes
from ..._common.declarations import (
    PURE_ATTR,
)
from ..._common.modes import Mode
from ..._common.sites import Site, display_name, site_of
from ..._common.violations import Party
from .. import config_layers
from ..loop_rules import Blocking, Link
from .base import WalkBase
from .resolve import (
    app_init,
    bind_arguments,
    defining_class,
    element_of,
    inspector_of,
    is_generator,
    or_blocked,
    sessionmaker_class,
    source_text,
)
from .sources import is_app_function, is_app_object
from .summaries import MAX_DEPTH, Hit, Summary
from .values import (
    BLOCKED,
    DYNAMIC,
    FRAMEWORK,
    LIBRARY,
    OFFLOADED,
    Inst,
    Local,
    Managed,
    Method,
    Obj,
    Super,
    Unknown,
    Value,
    async_fn,
    catalog_blocking,
    catalog_names,
    class_of,
    marker_of,
    mro_names,
    useful,
)


class Calls(WalkBase):
    """Calls in a body: what each one blocks on, and what it returns."""

    def call(self, node: ast.Call) -> Value:
        where = (self.file, node.lineno, node.col_offset)
        if self.an.counting:
            self.an.calls.add(where)
        callee = self.expr(node.func)
        args: list[Value] = []
        starred = False
        for arg in node.args:
            value = self.expr(arg)
            if isinstance(arg, ast.Starred):
                starred = True
            if not starred:
                args.append(value)
        kwargs = {kw.arg: self.expr(kw.value) for kw in node.keywords if kw.arg is not None}
        for kw in node.keywords:
            if kw.arg is None:
                self.expr(kw.value)
        self.start_passed(callee, [*args, *kwargs.values()])
        result = self.dispatch(callee, args, kwargs, node)
        if result is None:
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else node.func
            reason = callee.reason if isinstance(callee, Unknown) else "not callable"
            if self.an.counting:
                self.an.unresolved[where] = f"{source_text(receiver)} ({reason})"
            return Unknown(f"the result of {source_text(node.func)}()")
        return result

    def start_passed(self, callee: Value, values: list[Value]) -> None:
        """An ``async def`` of the app handed to another call (``add_task``) runs on the loop."""
        for value in values:
            if isinstance(value, Obj) and async_fn(value.value) and is_app_function(value.value):
                role = "background task"
                if isinstance(callee, Method) and callee.name not in (
                    "add_task",
                    "start_soon",
                    "start",
                    "create_task",
                ):
                    role = "async function"
                self.start(value.value, None, role)
            elif isinstance(value, Method) and async_fn(value.func) and is_app_function(value.func):
                self.start(value.func, value.receiver, "background task")

    def start(
        self, func: Any, receiver: Value | None, role: str, bound: Mapping[str, Value] | None = None
    ) -> None:
        found = self.an.add(func, receiver, role, bound=bound)
        if found is not None:
            self.summary.started.append(found)

    def dispatch(
        self, callee: Value, args: list[Value], kwargs: dict[str, Value], node: ast.Call
    ) -> Value | None:
        if isinstance(callee, Method):
            return self.invoke(
                callee.func, callee.receiver, callee.cls, callee.name, args, kwargs, node
            )
        if isinstance(callee, Obj):
            target = callee.value
            if target is super and self.owner is not None and self.self_name is not None:
                owner = defining_class(self.owner, self.func)
                return Super(owner or self.owner, self.env.get(self.self_name, Inst(self.owner)))
            if inspect.isclass(target):
                return self.construct(target, args, kwargs, node)
            if isinstance(target, types.MethodType):
                bound = target.__self__
                cls = bound if inspect.isclass(bound) else type(bound)
                return self.invoke(
                    target.__func__, Obj(bound), cls, target.__name__, args, kwargs, node
                )
            if isinstance(target, functools.partial):
                return self.dispatch(Obj(target.func), [], {}, node)
            if isinstance(target, types.BuiltinFunctionType):
                bound = target.__self__
                if bound is not None and not isinstance(bound, types.ModuleType):
                    cls = bound if inspect.isclass(bound) else type(bound)
                    return self.invoke(target, Obj(bound), cls, target.__name__, args, kwargs, node)
                return self.invoke(target, None, None, target.__name__, args, kwargs, node)
            if inspect.isroutine(target) or (callable(target) and hasattr(target, "__code__")):
                return self.invoke(
                    target, None, None, getattr(target, "__name__", "?"), args, kwargs, node
                )
            made = sessionmaker_class(target)
            if made is not None:
                return Inst(made)
            if callable(target):
                found = self.class_member(callee, type(target), "__call__")
                if isinstance(found, Method):
                    return self.invoke(
                        found.func, callee, type(target), "__call__", args, kwargs, node
                    )
            return None
        if isinstance(callee, Inst):
            found = self.class_member(callee, callee.cls, "__call__")
            if isinstance(found, Method):
                return self.invoke(found.func, callee, callee.cls, "__call__", args, kwargs, node)
            return None
        if isinstance(callee, Local):
            return self.inline(callee, args, kwargs, node)
        if callee is BLOCKED or callee is LIBRARY:
            return callee
        if callee is FRAMEWORK or callee is OFFLOADED:
            return Unknown("what the framework or an offload returns")
        return None

    def construct(
        self, cls: type, args: list[Value], kwargs: dict[str, Value], node: ast.Call
    ) -> Value:
        entry = catalog.lookup_method(mro_names(cls), "__init__")  # BeautifulSoup(...) parses
        if entry is not None:
            self.hit(node, catalog_blocking(entry, "__init__"))
            return Inst(cls)
        for name in catalog_names(cls):  # subprocess.Popen(...) starts a process
            entry = catalog.lookup(name)
            if entry is not None:
                self.hit(node, catalog_blocking(entry, None))
                return Inst(cls)
        if cls is super:
            return Unknown("super()")
        init = app_init(cls) if is_app_object(cls) else None
        if init is not None:
            receiver = Inst(cls)
            label = f"{display_name(cls)}"
            site = Site(self.shown_file, node.lineno)
            bound = bind_arguments(init, True, args, kwargs)
            summary = self.follow_summary(init, receiver, bound, label, site, node)
            if summary is not None and summary.self_attrs:
                return Inst(cls, attrs=summary.self_attrs)
            return receiver
        if cls in (list, set, tuple, frozenset) and args:
            element = element_of(args[0])
            return Inst(cls, (element,) if useful(element) else ())
        return Inst(cls)

    def invoke(
        self,
        func: Any,
        receiver: Value | None,
        cls: type | None,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
    ) -> Value | None:
        if func is DYNAMIC:  # only the catalogue can say what it is
            assert cls is not None
            entry = catalog.lookup_method(mro_names(cls), name)
            if entry is not None:
                self.hit(node, catalog_blocking(entry, name))
                return BLOCKED
            return LIBRARY
        is_async = async_fn(func)
        if not is_async:
            entry = None
            if (
                cls is not None
                and isinstance(receiver, (Obj, Inst))
                and not (
                    isinstance(receiver, Obj)
                    and inspect.isclass(receiver.value)
                    and name != "__call__"
                    and not isinstance(inspect.getattr_static(cls, name, None), classmethod)
                )
            ):
                entry = catalog.lookup_method(mro_names(cls), name)
                method: str | None = name
            if entry is None:
                method = None
                for qualified in catalog_names(func):
                    entry = catalog.lookup(qualified)
                    if entry is not None:
                        break
            if entry is not None:
                self.hit(node, catalog_blocking(entry, method))
                return or_blocked(self.an.returns(func, receiver))
            marker = marker_of(func)
            if marker is not None:
                label = display_name(func)
                other = Party(f"{marker} function", label, Mode.SYNC, site_of(func))
                blocking = Blocking(
                    label,
                    f"{label}, marked {marker}",
                    "cpu" if marker == "@cpu_bound" else "marked",
                    other,
                    fixes.offload_marked(marker, getattr(func, "__name__", label)),
                )
                self.hit(node, blocking)
                return or_blocked(self.an.returns(func, receiver))
            if cls is not None and receiver is not None and not name.startswith("_"):
                layer = config_layers.layer_of(cls)
                if (
                    layer is not None
                    and layer[0].mode is Mode.SYNC
                    and layer[0].kind != "driver"
                    and not getattr(func, PURE_ATTR, False)
                ):
                    info, owner = layer
                    owner_name = display_name(owner)
                    short = f"{owner_name}.{name}"
                    text = (
                        source_text(node.func.value)
                        if isinstance(node.func, ast.Attribute)
                        else owner_name
                    )
                    other = Party(info.role, owner_name, Mode.SYNC, site_of(owner))
                    blocking = Blocking(
                        short,
                        f"{short}, a method of {info.role} {owner_name}",
                        "layer",
                        other,
                        fixes.sync_layer_call_fix(text, name),
                    )
                    self.hit(node, blocking)
                    return or_blocked(self.an.returns(func, receiver))
        wrapped = getattr(func, "__wrapped__", None)
        if not is_app_function(func) and wrapped is not None and is_app_function(wrapped):
            # a library decorator around the app's function (contextmanager, lru_cache ...)
            generator = inspect.isgeneratorfunction(wrapped) or inspect.isasyncgenfunction(wrapped)
            inner = self.invoke(wrapped, receiver, cls, name, args, kwargs, node)
            contextual = generator and not (
                inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
            )
            if contextual:
                annotated = self.an.returns(wrapped, receiver)
                value = element_of(annotated) if annotated is not None else inner
                if value is None or not useful(value):
                    value = inner if inner is not None else Unknown("what the context gives")
                return Managed(value)
            return inner
        if is_async:
            found = self.an.returns(func, receiver)
            if is_app_function(func):
                role = "async method" if cls is not None else "async function"
                own = receiver if cls is not None else None
                bound = bind_arguments(func, own is not None, args, kwargs)
                self.start(func, own, role, bound)  # its parameters: the first call's arguments
                if found is None and self.depth < MAX_DEPTH:  # what its body returns, no more:
                    with self.an.quietly():  # it is analysed on its own
                        summary = self.an.summary(func, own, bound, self.depth + 1)
                    result = summary.result(is_generator(func)) if summary is not None else None
                    if result is not None and inspect.isasyncgenfunction(func):
                        result = Inst(collections.abc.AsyncIterator, (result,))
                    found = result
            return found if found is not None else Unknown(f"what {name}() returns")
        if is_app_function(func):
            label = display_name(func)
            site = Site(self.shown_file, node.lineno)
            bound = bind_arguments(func, receiver is not None and cls is not None, args, kwargs)
            return self.follow(
                func, receiver if cls is not None else None, bound, label, site, node
            )
        if (
            isinstance(func, types.FunctionType)
            or inspect.isbuiltin(func)
            or inspect.ismethoddescriptor(func)
            or callable(func)
        ):
            return self.library_result(func, receiver, cls, name, args)
        return None

    def library_result(
        self, func: Any, receiver: Value | None, cls: type | None, name: str, args: list[Value]
    ) -> Value:
        if "sqlalchemy.inspection.inspect" in catalog_names(func) and args:
            inspected = class_of(args[0])
            registrar = inspector_of(inspected) if inspected is not None else None
            if registrar is not None:
                found = self.an.returns(registrar, None)
                if found is not None:
                    return found
        if cls is not None and isinstance(receiver, Obj) and name == "begin":
            made = sessionmaker_class(receiver.value)
            if made is not None:
                return Managed(Inst(made))
        wrapped = getattr(func, "__wrapped__", None)
        if is_generator(wrapped) and not is_generator(func):  # @contextmanager in a library
            annotated = self.an.returns(wrapped, receiver)
            inner = element_of(annotated) if annotated is not None else None
            return Managed(inner if inner is not None else Unknown(f"what {name}() yields"))
        found = self.an.returns(func, receiver)
        if found is not None:
            if isinstance(found, Inst) and found.cls.__name__ in (
                "AbstractContextManager",
                "AbstractAsyncContextManager",
                "_GeneratorContextManager",
                "_AsyncGeneratorContextManager",
            ):
                return Managed(found.args[0]) if found.args else found
            return found
        return Unknown(f"what {getattr(func, '__qualname__', name)}() returns")

    def follow(
        self,
        func: Any,
        receiver: Value | None,
        bound: Mapping[str, Value],
        label: str,
        site: Site,
        node: ast.AST | None,
    ) -> Value:
        """Call the app's own sync ``func``: its blocking calls are this call's; its result."""
        summary = self.follow_summary(func, receiver, bound, label, site, node)
        generator = inspect.isgeneratorfunction(func)
        annotated = self.an.returns(func, receiver)
        if useful(annotated):
            assert annotated is not None
            return annotated
        found = summary.result(generator) if summary is not None else None
        if generator and found is not None:
            return Inst(collections.abc.Iterator, (found,))
        return found if found is not None else Unknown(f"what {label}() returns")

    def follow_summary(
        self,
        func: Any,
        receiver: Value | None,
        bound: Mapping[str, Value],
        label: str,
        site: Site,
        node: ast.AST | None,
    ) -> Summary | None:
        if self.depth >= MAX_DEPTH:
            if self.an.counting:
                self.an.not_followed.setdefault(label, site)
            return None
        summary = self.an.summary(func, receiver, bound, self.depth + 1)
        if summary is None:
            return None
        if summary.hits:
            first = summary.hits[0]
            self.summary.hits.append(Hit((Link(label, site), *first.path), first.blocking))
        self.summary.started.extend(summary.started)
        return summary

    def hit(self, node: ast.Call, blocking: Blocking) -> None:
        site = Site(self.shown_file, node.lineno)
        self.summary.hits.append(Hit((Link(blocking.short, site),), blocking))
