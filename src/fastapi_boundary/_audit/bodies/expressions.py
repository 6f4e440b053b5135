"""How a walk evaluates expressions: names, attributes, subscripts, comprehensions, properties."""

from __future__ import annotations

import ast
import builtins
import collections.abc
import contextlib
import inspect
import types

from ..._common.declarations import (
    OFFLOAD_ATTR,
)
from ..._common.sites import Site
from .base import WalkBase
from .resolve import MISSING, PropertyRef, element_of, is_http_connection, source_text, static_attr
from .sources import is_app_function, is_app_object
from .values import (
    BLOCKED,
    DYNAMIC,
    FRAMEWORK,
    LIBRARY,
    OFFLOADED,
    STATE,
    Inst,
    Local,
    Method,
    Obj,
    Super,
    Unknown,
    Value,
    class_of,
    first_useful,
    useful,
)


class Expressions(WalkBase):
    """Expressions of a body, to the values they give."""

    def expr(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.expr(node.value), node.attr, node)
        if isinstance(node, ast.Constant):
            return Obj(node.value)
        if isinstance(node, ast.Await):
            return self.expr(node.value)
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                self.expr(part)
            return Inst(str)
        if isinstance(node, ast.FormattedValue):
            self.expr(node.value)
            return Inst(str)
        if isinstance(node, (ast.List, ast.Set, ast.Tuple)):
            items = [self.expr(item) for item in node.elts]
            kind: type = {ast.List: list, ast.Set: set, ast.Tuple: tuple}[type(node)]
            if kind is tuple:
                return Inst(tuple, tuple(items))
            first = first_useful(items)
            return Inst(kind, (first,) if first is not None else ())
        if isinstance(node, ast.Dict):
            attrs: dict[str, Value] = {}
            for key, item in zip(node.keys, node.values, strict=False):
                value = self.expr(item)
                if key is not None:
                    self.expr(key)
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        attrs[key.value] = value
            return Inst(dict, attrs=attrs)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.expr(node.value), node.slice)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.comprehension(node)
        if isinstance(node, ast.BinOp):
            left = self.expr(node.left)
            self.expr(node.right)
            cls = class_of(left)
            if cls in (str, bytes, int, float, list, tuple):
                assert cls is not None
                return Inst(cls)
            return Unknown(f"the result of {source_text(node)}")
        if isinstance(node, ast.BoolOp):
            values = [self.expr(value) for value in node.values]
            return first_useful(values) or values[-1]
        if isinstance(node, (ast.Compare, ast.UnaryOp)):
            for operand in ast.iter_child_nodes(node):
                if isinstance(operand, ast.expr):
                    self.expr(operand)
            return Inst(bool)
        if isinstance(node, ast.IfExp):
            self.expr(node.test)
            body, orelse = self.expr(node.body), self.expr(node.orelse)
            return body if useful(body) else orelse
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value)
            self.assign(node.target, value)
            return value
        if isinstance(node, ast.Lambda):
            return Local(node, self)
        if isinstance(node, ast.Starred):
            return self.expr(node.value)
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            if node.value is not None:
                value = self.expr(node.value)
                self.summary.yields.append(
                    element_of(value) if isinstance(node, ast.YieldFrom) else value
                )
            return Unknown("the value sent to a generator")
        if isinstance(node, ast.Slice):
            for bound in (node.lower, node.upper, node.step):
                if bound is not None:
                    self.expr(bound)
            return Inst(slice)
        for inner in ast.iter_child_nodes(node):
            if isinstance(inner, ast.expr):
                self.expr(inner)
        return Unknown(f"the result of {source_text(node)}")

    def name(self, name: str) -> Value:
        value = self.env.get(name)
        if value is not None:
            return value
        if name in self.closure:
            return Obj(self.closure[name])
        if name in self.globals:
            return Obj(self.globals[name])
        builtin = getattr(builtins, name, MISSING)
        if builtin is not MISSING:
            if builtin is super and self.owner is not None and self.self_name is not None:
                return Obj(super)
            return Obj(builtin)
        return Unknown(f"the name {name} is not defined where the audit looked")

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> Value:
        saved = dict(self.env)
        try:
            for generator in node.generators:
                self.assign(generator.target, element_of(self.expr(generator.iter)))
                for condition in generator.ifs:
                    self.expr(condition)
            if isinstance(node, ast.DictComp):
                self.expr(node.key)
                self.expr(node.value)
                return Inst(dict)
            element = self.expr(node.elt)
        finally:
            self.env = saved
        kind = (
            list
            if isinstance(node, ast.ListComp)
            else set
            if isinstance(node, ast.SetComp)
            else collections.abc.Iterator
        )
        return Inst(kind, (element,))

    def subscript(self, value: Value, index: ast.expr) -> Value:
        key = self.expr(index)
        if isinstance(value, Inst):
            if isinstance(index, ast.Slice):
                return value
            if (
                value.cls is tuple
                and isinstance(key, Obj)
                and isinstance(key.value, int)
                and 0 <= key.value < len(value.args)
            ):
                return value.args[key.value]
            if value.attrs and isinstance(key, Obj) and isinstance(key.value, str):
                return value.attrs.get(key.value, Unknown(f"item {key.value!r}"))
            if value.args:
                return (
                    value.args[-1]
                    if issubclass(value.cls, collections.abc.Mapping)
                    else value.args[0]
                )
            return Unknown(f"an item of {value.cls.__qualname__}")
        if (
            isinstance(value, Obj)
            and isinstance(key, Obj)
            and type(value.value) in (dict, list, tuple)
        ):
            with contextlib.suppress(Exception):
                return Obj(value.value[key.value])  # type: ignore[index]
        if isinstance(value, Unknown):
            return value
        return Unknown("an item of a value")

    # --- attributes --------------------------------------------------------------------

    def attribute(self, value: Value, name: str, node: ast.AST | None = None) -> Value:
        found = self.member(value, name)
        if isinstance(found, PropertyRef):
            return self.property(found, node)
        return found

    def member(self, value: Value, name: str) -> Value | PropertyRef:
        if isinstance(value, Obj):
            target = value.value
            if isinstance(target, types.ModuleType):
                found = vars(target).get(name, MISSING)
                if found is MISSING:
                    return Unknown(f"{target.__name__}.{name} is not defined")
                return Obj(found)
            if inspect.isclass(target):
                return self.class_member(value, target, name, on_class=True)
            cls = type(target)
            if name == "state" and is_http_connection(cls):
                return STATE
            if getattr(cls, OFFLOAD_ATTR, False):
                return OFFLOADED
            try:
                own = object.__getattribute__(target, "__dict__")
            except AttributeError:
                own = None
            if isinstance(own, dict) and name in own:
                return Obj(own[name])
            return self.class_member(value, cls, name)
        if isinstance(value, Inst):
            cls = value.cls
            if name == "state" and is_http_connection(cls):
                return STATE
            if getattr(cls, OFFLOAD_ATTR, False):
                return OFFLOADED
            if value.attrs is not None and name in value.attrs and cls is not dict:
                return value.attrs[name]
            if is_app_object(cls):
                attrs = self.an.init_attrs(cls)
                if name in attrs:
                    return attrs[name]
            return self.class_member(value, cls, name)
        if value is STATE:
            known = self.an.state.get(name)
            if known is not None:
                return known
            return Unknown(
                f"request.state.{name}, set nowhere the audit looked (middleware, lifespan)"
            )
        if value is FRAMEWORK or value is OFFLOADED or value is BLOCKED or value is LIBRARY:
            return value
        if isinstance(value, Super):
            mro: tuple[type, ...] = getattr(class_of(value.receiver), "__mro__", ())
            if value.owner in mro:
                for klass in mro[mro.index(value.owner) + 1 :]:
                    if name in klass.__dict__:
                        raw = klass.__dict__[name]
                        if inspect.isfunction(raw):
                            return Method(value.receiver, raw, klass, name)
                        return Obj(raw)
            return Unknown(f"super().{name}")
        if isinstance(value, Unknown):
            return value
        return Unknown(f"an attribute of {type(value).__name__.lower()}")

    def class_member(
        self, receiver: Value, cls: type, name: str, *, on_class: bool = False
    ) -> Value | PropertyRef:
        try:
            raw = inspect.getattr_static(cls, name)
        except AttributeError:
            raw = MISSING
        except Exception:
            return Unknown(f"{cls.__qualname__}.{name}")
        if raw is MISSING:
            found = self.annotated_attribute(cls, name, receiver)
            if (
                isinstance(found, Unknown)
                and not is_app_object(cls)
                and static_attr(cls, "__getattr__")
            ):
                return Method(receiver, DYNAMIC, cls, name)  # a library's dynamic attribute
            return found
        if isinstance(raw, staticmethod):
            return Obj(raw.__func__)
        if isinstance(raw, classmethod):
            return Method(Obj(cls), raw.__func__, cls, name)
        if on_class:
            return Obj(raw)
        if isinstance(raw, property):
            return PropertyRef(receiver, raw, cls, name)
        if (
            inspect.isfunction(raw)
            or inspect.ismethoddescriptor(raw)
            or isinstance(raw, (types.BuiltinFunctionType, types.WrapperDescriptorType))
        ):
            return Method(receiver, raw, cls, name)
        if hasattr(type(raw), "__get__") and not inspect.isclass(raw):
            if isinstance(receiver, Obj):
                with contextlib.suppress(Exception):
                    if isinstance(raw, (types.MemberDescriptorType, types.GetSetDescriptorType)):
                        return Obj(getattr(receiver.value, name))
            annotated = self.annotated_attribute(cls, name, receiver)
            if useful(annotated):
                return annotated
            if callable(raw):
                return Method(receiver, raw, cls, name)
            return annotated
        return Obj(raw)

    def annotated_attribute(self, cls: type, name: str, receiver: Value) -> Value:
        for klass in getattr(cls, "__mro__", ()):
            try:
                annotations = inspect.get_annotations(klass)
            except Exception:  # an annotation that cannot be read: as if absent
                continue
            if name in annotations:
                value = self.an.annotation(annotations[name], klass, receiver)
                if value is not None:
                    return value
        if isinstance(receiver, Inst) and not is_app_object(cls):
            return Unknown(f"attribute {name} of {cls.__qualname__}, not declared")
        return Unknown(f"attribute {name} of {cls.__qualname__}, set nowhere the audit looked")

    def property(self, prop: PropertyRef, node: ast.AST | None) -> Value:
        getter = prop.prop.fget
        if getter is None:
            return Unknown(f"property {prop.name}")
        if is_app_function(getter):  # reading it runs it: a call like any other
            site = Site(self.shown_file, getattr(node, "lineno", 0))
            label = f"{prop.cls.__name__}.{prop.name}"
            return self.follow(getter, prop.receiver, {}, label, site, node)
        found = self.an.returns(getter, prop.receiver)
        return (
            found if found is not None else Unknown(f"property {prop.cls.__qualname__}.{prop.name}")
        )

    # --- calls -------------------------------------------------------------------------
