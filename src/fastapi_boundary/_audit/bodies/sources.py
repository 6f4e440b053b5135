"""What is the app's own code, and its sources: one parse per file, one node per code object."""

from __future__ import annotations

import ast
import contextlib
import functools
import linecache
import os
import site
import sysconfig
import types
import weakref
from typing import Any, TypeAlias

from ..._common.declarations import ORIGINAL_ATTR, TIMED_ATTR
from ..._common.modules import loaded_module


def unwrapped(func: Any) -> Any:
    """The user's function behind the guard's or step timing's wrapper (those run the original).

    While the guard or the monitor is on, layer methods, endpoints and dependencies are
    replaced by generated wrappers whose globals are not the user's module: the analysis
    reads the original, so an audit gives the same answer with run-time detection on or off.
    """
    for _ in range(8):
        if getattr(func, TIMED_ATTR, False) and hasattr(func, "__wrapped__"):
            func = func.__wrapped__
        elif ORIGINAL_ATTR in getattr(func, "__dict__", {}):
            func = func.__dict__[ORIGINAL_ATTR]
        else:
            break
    return func


# --- what is the app's own code ----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    """Folders of code that is not the app's: the stdlib, site-packages, this package."""
    here = os.path.abspath(__file__)  # fastapi_boundary/_audit/bodies/sources.py
    paths = {os.path.dirname(os.path.dirname(os.path.dirname(here)))}  # fastapi_boundary
    installed = sysconfig.get_paths()
    paths.update(installed.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib"))
    with contextlib.suppress(Exception):
        paths.update(site.getsitepackages())
    with contextlib.suppress(Exception):
        paths.add(site.getusersitepackages())
    paths.add(os.path.dirname(os.__file__))
    return tuple(os.path.join(os.path.realpath(path), "") for path in paths if path)


@functools.lru_cache(maxsize=8192)
def is_app_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False
    return not os.path.realpath(filename).startswith(_library_dirs())


def is_app_function(func: object) -> bool:
    """Whether ``func`` is a Python function of the app's own code (not a library's)."""
    code = getattr(func, "__code__", None)
    return isinstance(code, types.CodeType) and is_app_file(code.co_filename)


def is_app_object(obj: object) -> bool:
    """A function, or a class or C function defined in a module of the app's own code."""
    if isinstance(getattr(obj, "__code__", None), types.CodeType):
        return is_app_function(obj)  # by its code: a library's wrapper may borrow a module name
    module = loaded_module(getattr(obj, "__module__", None) or "")
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and is_app_file(file)


# --- sources: one parse per file, one node per code object ----------------------------------

FunctionNode: TypeAlias = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@functools.lru_cache(maxsize=256)
def _file_index(
    filename: str, stamp: tuple[int, int]
) -> dict[tuple[int, str], FunctionNode | None]:
    """``(first line, name) -> node`` for every function of a file (its first decorator's line)."""
    del stamp  # part of the cache key only: a file edited on disk is parsed again
    try:
        tree = ast.parse("".join(linecache.getlines(filename)), filename)
    except (SyntaxError, ValueError):
        return {}
    index: dict[tuple[int, str], FunctionNode | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            key = (first, node.name)
        elif isinstance(node, ast.Lambda):
            key = (node.lineno, "<lambda>")
        else:
            continue
        index[key] = None if key in index else node  # two on one line: ambiguous
    return index


_nodes: weakref.WeakKeyDictionary[types.CodeType, FunctionNode | None] = weakref.WeakKeyDictionary()


def function_node(code: types.CodeType) -> FunctionNode | None:
    """The parsed definition of a code object's function, or ``None`` when it has no source."""
    try:
        return _nodes[code]
    except KeyError:
        pass
    filename = code.co_filename
    node: FunctionNode | None = None
    if not filename.startswith("<"):
        try:
            stat = os.stat(filename)
        except OSError:
            stat = None
        if stat is not None:
            linecache.checkcache(filename)
            index = _file_index(filename, (stat.st_mtime_ns, stat.st_size))
            node = index.get((code.co_firstlineno, code.co_name))
    _nodes[code] = node
    return node
