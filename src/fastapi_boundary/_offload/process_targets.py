"""What may cross to a worker process: ``@cpu_bound`` and the checks behind ``run_cpu``.

A worker imports the function it runs by module and qualified name, and
receives the arguments pickled.  This module decides whether a function can
travel that way: `cpu_bound` when it decorates one (so a lambda, a closure,
a method or an ``async def`` fails where it is defined), `target_reference` at its
first call (checked once, then cached).  It also encodes each call's request,
and names the argument that cannot be pickled when one cannot.  The pool that
sends the requests is `process_pool`; the worker's side is `process_trampoline`.
"""

from __future__ import annotations

import functools
import inspect
import pickle
import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .._common import fixes, hooks
from .._common.declarations import CPU_BOUND_ATTR
from .._common.errors import ProcessPicklingError, ProcessTargetError
from .._common.modes import Shape, shape_of
from .._common.modules import loaded_module
from .._common.sites import display_name, site_of

__all__ = ["CPU_BOUND_ATTR", "cpu_bound", "is_cpu_bound"]

F = TypeVar("F", bound=Callable[..., Any])


# --- which functions a worker can run ------------------------------------------------------


def _problem(obj: object, *, decorating: bool) -> tuple[str, str] | None:
    """Why ``obj`` cannot run in a worker, and the fix; ``None`` when it can."""
    if isinstance(obj, functools.partial):
        return (
            "a functools.partial; a worker imports functions by module and name",
            "mark the function itself and pass the fixed arguments to run_cpu(f, x, key=...)",
        )
    if isinstance(obj, classmethod) or (inspect.ismethod(obj) and inspect.isclass(obj.__self__)):
        return (
            "a classmethod, which needs its class in the worker",
            "make it a @staticmethod or a module-level function",
        )
    if inspect.ismethod(obj) or (
        inspect.isbuiltin(obj) and not isinstance(obj.__self__, (types.ModuleType, type(None)))
    ):
        owner = type(obj.__self__).__qualname__
        return (
            f"a method bound to a {owner} instance, which would be pickled and sent with "
            f"every call",
            "make it a module-level function (or a @staticmethod) that takes the data it needs "
            "as arguments",
        )
    if inspect.isbuiltin(obj):
        if decorating:
            return (
                "a builtin function, which cannot be marked",
                f"await run_cpu({obj.__name__}, ...)",
            )
        return None
    if inspect.isclass(obj):
        return (
            "a class; run_cpu runs functions",
            "write a module-level function that creates and uses the object",
        )
    if not inspect.isfunction(obj):
        return (
            f"a callable {type(obj).__qualname__} instance, whose state would be pickled and sent "
            f"with every call",
            "make __call__'s work a module-level function that takes the data it needs",
        )
    shape = shape_of(obj).shape
    if shape in (Shape.COROUTINE_FUNCTION, Shape.ASYNC_GENERATOR_FUNCTION):
        kind = "an async def" if shape is Shape.COROUTINE_FUNCTION else "an async generator"
        return fixes.process_target_async(kind)
    if shape is Shape.GENERATOR_FUNCTION:
        return fixes.process_target_generator()
    if obj.__name__ == "<lambda>":
        return (
            "a lambda, which has no name a worker process can import",
            "define it with def at module level",
        )
    if "<locals>" in obj.__qualname__:
        outer = obj.__qualname__.rsplit(".<locals>.", 1)[0]
        return fixes.process_target_nested(outer)
    if obj.__module__ == "__mp_main__":  # the parent's main script, run again in a worker
        return None
    module = loaded_module(obj.__module__) if isinstance(obj.__module__, str) else None
    if module is None:
        return (
            f"its module {obj.__module__!r} is not imported, so a worker cannot import it either",
            "define it with def in an importable module",
        )
    if obj.__module__ == "__main__" and _main_alias() is None:
        script = getattr(module, "__file__", None) or "the interactive session"
        return (
            f"defined in the __main__ script ({script}), which a worker cannot import without "
            f"running it again",
            "move it to an importable module (e.g. yourapp/cpu.py) and import it, or start the "
            "program with python -m package.module",
        )
    return None


def _main_alias() -> str | None:
    """The module name ``__main__`` can be imported under (``python -m pkg.mod``), if any.

    ``python -m pkg`` runs ``pkg/__main__.py``, which usually starts the
    program at import: a worker must not import it.
    """
    spec = getattr(loaded_module("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if not isinstance(name, str) or name == "__main__" or name.endswith(".__main__"):
        return None
    return name


def _raw_function(obj: object) -> object:
    return obj.__func__ if isinstance(obj, staticmethod) else obj


def describe(obj: object) -> str:
    site = site_of(obj)
    return f"{display_name(obj)} ({site})" if site.known else display_name(obj)


def call_text(obj: object, offload: str = "run_cpu") -> str:
    """``run_cpu(name) (file:line)``: how messages about one call name it (``offload``: the
    function making the call, ``run_queued`` for the queue)."""
    site = site_of(obj)
    return f"{offload}({display_name(obj)})" + (f" ({site})" if site.known else "")


_references: dict[object, tuple[str, str]] = {}


def target_reference(func: object) -> tuple[str, str]:
    """``(module, qualname)`` a worker imports ``func`` by; raises if there is none.

    Cached: checked once per function, then a dict lookup per call.
    """
    try:
        return _references[func]
    except (KeyError, TypeError):  # TypeError: unhashable callables
        pass
    if inspect.iscoroutine(func) or inspect.isawaitable(func):
        raise ProcessTargetError(
            fixes.offload_given_call_result("run_cpu", f"{type(func).__name__} {func!r}") + "."
        )
    if not callable(func):
        raise ProcessTargetError(f"run_cpu() needs a function; got {type(func).__name__} {func!r}")
    target: Any = func  # not narrowed by callable(): builtins are final types
    problem = _problem(target, decorating=False)
    if problem is not None:
        raise ProcessTargetError(
            f"run_cpu() cannot run {describe(func)} in a worker process: it is {problem[0]}. "
            f"Fix: {problem[1]}."
        )
    module_name: str = getattr(target, "__module__", None) or "builtins"
    if inspect.isbuiltin(target) and isinstance(target.__self__, types.ModuleType):
        module_name = target.__self__.__name__
    qualname: str = getattr(target, "__qualname__", "")
    found: object = sys.modules[module_name]
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
    except AttributeError:
        found = None
    if found is not func:
        raise ProcessTargetError(
            f"run_cpu() cannot run {describe(func)} in a worker process: a worker imports it "
            f"as {module_name}.{qualname}, which is {'missing' if found is None else found!r}, "
            f"not this function (created by exec or type(), renamed, or replaced by a later "
            f"definition or decorator). Fix: define it once with def at module level; a "
            f"decorator over it must use functools.wraps."
        )
    if module_name == "__main__":
        module_name = _main_alias() or module_name  # never None: _problem checked it
    reference = _references[func] = (module_name, qualname)
    return reference


def cpu_bound(func: F, /) -> F:
    """Mark a sync function as CPU-bound: async code runs it with ``await run_cpu(func, ...)``.

    Returns the function itself, marked (no wrapper): called from sync code
    it runs inline, at no extra cost.  Raises `ProcessTargetError` now, not
    at the first call, for what a worker process could never import or run:
    an ``async def``, a generator, a lambda, a nested function or closure, a
    bound method, a ``functools.partial``, a callable instance, or a function
    of a ``__main__`` script.
    """
    raw = _raw_function(func)
    problem = _problem(raw, decorating=True)
    if problem is not None:
        raise ProcessTargetError(fixes.cannot_mark(describe(raw), *problem) + ".")
    setattr(raw, CPU_BOUND_ATTR, True)
    if hooks.on_marked and raw is func:  # the run-time guard is on: it checks it
        return hooks.marked(func)
    return func


def is_cpu_bound(func: object) -> bool:
    """Whether ``func`` was marked with ``@cpu_bound``."""
    return getattr(_raw_function(func), CPU_BOUND_ATTR, False) is True


# --- requests ------------------------------------------------------------------------------


def type_name_of(value: object) -> str:
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def encode_call(
    reference: tuple[str, str], func: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bytes:
    """The request `process_trampoline.call` reads: ``(module, qualname, args, kwargs)``."""
    try:
        return pickle.dumps((*reference, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise _argument_error(func, args, kwargs, error) from error


def _argument_error(
    func: object, args: tuple[Any, ...], kwargs: dict[str, Any], error: Exception
) -> ProcessPicklingError:
    """Name the argument that cannot be pickled (pickling each again only on this error path)."""
    names: list[str] = [f"#{index + 1}" for index in range(len(args))]
    try:
        bound = inspect.signature(cast(Callable[..., Any], func)).bind_partial(*args)
        names[: len(bound.arguments)] = [repr(name) for name in bound.arguments]
    except (TypeError, ValueError):
        pass
    candidates = [(f"positional argument {names[i]}", a) for i, a in enumerate(args)]
    candidates += [(f"keyword argument {name!r}", value) for name, value in kwargs.items()]
    for label, value in candidates:
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as culprit:
            return ProcessPicklingError(
                f"{call_text(func)} cannot send its {label} to a worker process: "
                f"a {type_name_of(value)} cannot be pickled ({type_name_of(culprit)}: {culprit}). "
                f"Fix: pass plain data (numbers, str, bytes, lists, dicts, dataclasses of "
                f"those) and create locks, connections, files and clients inside the function."
            )
    return ProcessPicklingError(
        f"{call_text(func)} cannot send its arguments to a worker process: "
        f"{type_name_of(error)}: {error}. Fix: pass plain, picklable data."
    )
