"""Where something was defined: the ``file:line`` every message names.

Sites are computed only when a report or an error needs them, so the hot
path of class creation never reads source files.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import os
import sys
import weakref
from dataclasses import dataclass
from types import FrameType

from .modules import loaded_module

__all__ = ["Site", "app_name", "caller_site", "display_name", "relative_path", "site_of"]


@dataclass(frozen=True)
class Site:
    """A definition site. ``line`` is 0 when only the file is known."""

    file: str
    line: int = 0

    @property
    def known(self) -> bool:
        return self.file != "<unknown>"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


UNKNOWN = Site("<unknown>")


@functools.lru_cache(maxsize=1024)
def relative_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative


_class_sites: weakref.WeakKeyDictionary[type, Site] = weakref.WeakKeyDictionary()


def _class_site(cls: type) -> Site:
    site = _class_sites.get(cls)
    if site is None:
        site = _class_sites[cls] = _compute_class_site(cls)
    return site


def _compute_class_site(cls: type) -> Site:
    module = loaded_module(cls.__module__)
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return UNKNOWN
    if file.endswith((".pyc", ".pyo")):
        file = file[:-1]
    first_line = cls.__dict__.get("__firstlineno__")  # set by CPython >= 3.13
    if not isinstance(first_line, int):
        first_line = _class_lines(file).get(cls.__qualname__, 0)
    return Site(relative_path(file), first_line)


@functools.lru_cache(maxsize=256)
def _class_lines(file: str) -> dict[str, int]:
    """``qualname -> line`` of every class in a source file, from one parse of it.

    ``inspect.getsourcelines`` parses the whole module again for every class
    it is asked about; reports name many classes of few modules.
    """
    try:
        tree = ast.parse("".join(linecache.getlines(file)), file)
    except (SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                qualname = prefix + child.name
                # the first decorator's line, as __firstlineno__ and co_firstlineno give
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                lines.setdefault(qualname, first)
                visit(child, qualname + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{prefix}{child.name}.<locals>.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return lines


def site_of(obj: object) -> Site:
    """Return the definition site of a function, method, class or instance."""
    target = inspect.unwrap(obj) if callable(obj) and not inspect.isclass(obj) else obj
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, (staticmethod, classmethod)):
        target = target.__func__
    code = getattr(target, "__code__", None)
    if code is not None:
        return Site(relative_path(code.co_filename), code.co_firstlineno)
    if inspect.isclass(target):
        return _class_site(target)
    call = getattr(type(target), "__call__", None)  # noqa: B004 - an instance
    if call is not None and getattr(call, "__code__", None) is not None:
        return site_of(call)
    if not inspect.isclass(target) and not inspect.isroutine(target):
        return _class_site(type(target))
    return UNKNOWN


def app_name(app: object) -> str:
    """How messages name an app: its title when it has one, never a memory address."""
    title = getattr(app, "title", None)
    kind = type(app).__name__
    return f"{kind} app {title!r}" if isinstance(title, str) and title else f"{kind} app"


def display_name(obj: object) -> str:
    """A short, readable name: the qualified name without ``<locals>`` noise."""
    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    qualname = getattr(target, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname.rsplit("<locals>.", 1)[-1]  # the site already says where
    cls = type(target)
    return f"{cls.__qualname__} instance"


_FRAMEWORK_DIRS = tuple(
    os.path.dirname(module.__file__ or "") + os.sep
    for module in (sys.modules[__name__.partition(".")[0]],)
)


def caller_site() -> Site:
    """The first frame outside this package: where a router was created, say."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_FRAMEWORK_DIRS):
        frame = frame.f_back
    if frame is None:
        return UNKNOWN
    return Site(relative_path(frame.f_code.co_filename), frame.f_lineno)
