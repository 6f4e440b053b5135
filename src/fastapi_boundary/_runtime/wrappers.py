"""The wrapper code generator: the guard's call wrappers and step timing's timed coroutines.

A wrapper that repeats the wrapped callable's own parameters runs CPython's
fastest call path: no tuple and dict are packed for ``*args, **kwargs`` on
every call.  That cost is what the benchmarks measure (an intercepted call
made off the loop, a timed layer method), and Python cannot write such a
wrapper generically, so it is generated: a template defines ``make(...)``,
which closes over what the wrapper needs and returns it, compiled once per
wrapped callable (`_factory`).  Where the signature cannot be repeated
safely, a closure taking ``*args, **kwargs`` does the same job.

The templates hold no user text: only parameter names read from the
wrapped callable's signature, each checked to be a plain identifier that
cannot clash with the template's own names.
"""

from __future__ import annotations

import inspect
import keyword
import sys
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from .loop_threads import LOOP_THREADS, get_ident

__all__ = ["call_wrapper", "coroutine_wrapper", "frame_above"]

#: ``on_loop(target, original, caller_frame, args, kwargs)``: what a call wrapper hands a
#: call made on a loop thread to.
OnLoop = Callable[
    [Any, Callable[..., Any], types.FrameType | None, tuple[Any, ...], dict[str, Any]], Any
]
#: ``drive(coroutine, spec)``: what runs a timed coroutine step by step.
Drive = Callable[[Coroutine[Any, Any, Any], Any], Awaitable[Any]]


def _factory(source: str, filename: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile a template and return the ``make`` function it defines."""
    exec(compile(source, filename, "exec"), namespace)  # a fixed template (see the module doc)
    make: Callable[..., Any] = namespace["make"]
    return make


def frame_above(depth: int) -> types.FrameType | None:
    """The frame ``depth`` levels above the wrapper's caller, or ``None`` at the stack's bottom.

    A wrapper can be the first frame of its thread or greenlet (SQLAlchemy's
    ``greenlet_spawn(engine.connect)``): there is no caller to name.
    """
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None


# --- the guard's call wrappers --------------------------------------------------------------

_CALL_TEMPLATE = """
def make(_b_original, _b_entry, _b_ident, _b_loops, _b_on_loop, _b_frame):
    def wrapper({first}, *args, **kwargs):
        if _b_ident() in _b_loops:
            return _b_on_loop(_b_entry, _b_original, _b_frame(1), ({name}, *args), kwargs)
        if args or kwargs:
            return _b_original({name}, *args, **kwargs)
        return _b_original({name})
    return wrapper
"""

#: For ``f(a, b, *, x=..., y=...)`` (os.stat, os.remove, os.access...): no ``*args``/``**kwargs``
#: and only positional-or-keyword parameters, the shape CPython calls fastest.  A keyword-only
#: argument passed positionally lands in ``_b_extra`` and is forwarded positionally, so the
#: original raises exactly the TypeError it raises without the guard.
_EXACT_CALL_TEMPLATE = """
def make(_b_original, _b_entry, _b_ident, _b_loops, _b_on_loop, _b_frame, _b_M):
    def wrapper({parameters}, _b_extra=_b_M, {optional}):
        if _b_ident() in _b_loops:
            args, kwargs = _b_pack(({required},), _b_extra, {names}, ({values},), _b_M)
            return _b_on_loop(_b_entry, _b_original, _b_frame(1), args, kwargs)
        if _b_extra is _b_M and {all_missing}:
            return _b_original({required})
        args, kwargs = _b_pack(({required},), _b_extra, {names}, ({values},), _b_M)
        return _b_original(*args, **kwargs)
    return wrapper
"""

_MISSING: Any = object()


def _pack(
    required: tuple[Any, ...],
    extra: Any,
    names: tuple[str, ...],
    values: tuple[Any, ...],
    missing: Any,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    args = required if extra is missing else (*required, extra)
    return args, {
        name: value for name, value in zip(names, values, strict=True) if value is not missing
    }


def _usable(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in ("args", "kwargs", "wrapper", "make")
        and not name.startswith("_b_")
    )


def _exact_call_source(original: object) -> str | None:
    """The exact fast wrapper for ``f(required..., *, optional=...)`` signatures, if it applies."""
    try:
        parameters = list(inspect.signature(original).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    kind = inspect.Parameter
    required = [
        p for p in parameters if p.kind in (kind.POSITIONAL_ONLY, kind.POSITIONAL_OR_KEYWORD)
    ]
    optional = [p for p in parameters if p.kind is kind.KEYWORD_ONLY]
    if (
        not required
        or not optional
        or len(required) + len(optional) != len(parameters)
        or any(p.default is not kind.empty for p in required)
        or any(p.default is kind.empty for p in optional)
        or not all(_usable(p.name) for p in parameters)
    ):
        return None
    names = [p.name for p in required]
    declared = ", ".join(names)
    if required[-1].kind is kind.POSITIONAL_ONLY:
        declared += ", /"
    elif any(p.kind is kind.POSITIONAL_ONLY for p in required):
        return None
    optional_names = [p.name for p in optional]
    return _EXACT_CALL_TEMPLATE.format(
        parameters=declared,
        optional=", ".join(f"{name}=_b_M" for name in optional_names),
        required=", ".join(names),
        names=repr(tuple(optional_names)),
        values=", ".join(optional_names),
        all_missing=" and ".join(f"{name} is _b_M" for name in optional_names),
    )


def _first_parameter(original: object) -> tuple[str, str] | None:
    """How a wrapper can take the first argument by name (``None``: it cannot know).

    A wrapper whose first parameter is explicit runs CPython's faster call
    path than a bare ``*args, **kwargs`` one: the off-the-loop cost that the
    benchmarks measure.
    """
    if isinstance(original, (types.MethodDescriptorType, types.WrapperDescriptorType)):
        return "self, /", "self"  # an unbound C method: the receiver is always positional
    try:
        parameters = list(inspect.signature(original).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not parameters or parameters[0].default is not inspect.Parameter.empty:
        return None
    first = parameters[0]
    if first.kind is inspect.Parameter.POSITIONAL_ONLY:
        return "first, /", "first"
    if first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and _usable(first.name):
        return first.name, first.name
    return None


def call_wrapper(
    original: Callable[..., Any], target: object, on_loop: OnLoop, filename: str
) -> Callable[..., Any]:
    """A wrapper of ``original`` that hands calls made on a loop thread to ``on_loop``.

    Off the loop it costs one ``get_ident()`` and one dict lookup before
    calling ``original``; its signature accepts exactly what ``original``
    accepts.  ``filename`` is what tracebacks name for the generated code.
    """
    loops = LOOP_THREADS
    ident = get_ident
    wrapper: Callable[..., Any]
    namespace: dict[str, Any] = {"_b_pack": _pack}
    exact = _exact_call_source(original)
    if exact is not None:
        make = _factory(exact, filename, namespace)
        wrapper = make(original, target, ident, loops, on_loop, frame_above, _MISSING)
        return wrapper
    first = _first_parameter(original)
    if first is not None:
        make = _factory(_CALL_TEMPLATE.format(first=first[0], name=first[1]), filename, namespace)
        wrapper = make(original, target, ident, loops, on_loop, frame_above)
        return wrapper

    def generic(*args: Any, **kwargs: Any) -> Any:
        if ident() in loops:
            return on_loop(target, original, frame_above(1), args, kwargs)
        return original(*args, **kwargs)

    return generic


# --- step timing's timed coroutines ---------------------------------------------------------

_TIMED_TEMPLATE = """
def make(_boundary_function, _boundary_spec, _boundary_drive, _boundary_draw, _boundary_rate):
    async def timed({params}):
        {sampling}return await _boundary_drive(_boundary_function({params}), _boundary_spec)
    return timed
"""
_SAMPLING = (
    "if _boundary_draw() >= _boundary_rate:\n"
    "            return await _boundary_function({params})\n"
    "        "
)
_PLAIN_PARAMETERS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _exact_parameters(function: types.FunctionType) -> str | None:
    """``"self, item_id"`` when the wrapper can repeat the signature (no packing of arguments).

    Forwarding ``*args, **kwargs`` builds a tuple and a dict on every call;
    a wrapper with the function's own positional-or-keyword parameters (and
    its defaults) passes them straight on.
    """
    code = function.__code__
    if code.co_flags & _PLAIN_PARAMETERS or code.co_kwonlyargcount or code.co_posonlyargcount:
        return None
    names = code.co_varnames[: code.co_argcount]
    if any(name.startswith("_boundary_") or not name.isidentifier() for name in names):
        return None
    return ", ".join(names)


def _exact_timed(
    function: types.FunctionType,
    params: str,
    spec: object,
    drive: Drive,
    draw: Callable[[], float],
    rate: float,
) -> Callable[..., Any]:
    sampling = _SAMPLING.format(params=params) if rate < 1.0 else ""
    make = _factory(_TIMED_TEMPLATE.format(params=params, sampling=sampling), "<string>", {})
    timed: types.FunctionType = make(function, spec, drive, draw, rate)
    timed.__defaults__ = function.__defaults__
    # Where the method is defined, as code that reads ``Layer.method.__code__`` expects.
    original = function.__code__
    timed.__code__ = timed.__code__.replace(
        co_filename=original.co_filename,
        co_firstlineno=original.co_firstlineno,
        co_name=original.co_name,
    )
    return timed


def coroutine_wrapper(
    function: Callable[..., Any], spec: object, drive: Drive, draw: Callable[[], float], rate: float
) -> Callable[..., Any]:
    """An ``async def`` that awaits ``drive(function(...), spec)``.

    A real coroutine function, so ``asyncio.create_task``, anyio's
    ``start_soon`` and ``inspect.iscoroutinefunction`` see what they expect.
    With ``rate < 1`` only calls whose ``draw()`` falls below it are driven;
    the others await ``function`` directly.
    """
    if type(function) is types.FunctionType:
        params = _exact_parameters(function)
        if params is not None:
            return _exact_timed(function, params, spec, drive, draw, rate)
    timed: Callable[..., Any]
    if rate >= 1.0:

        async def timed(*args: Any, **kwargs: Any) -> Any:
            return await drive(function(*args, **kwargs), spec)

    else:

        async def timed(*args: Any, **kwargs: Any) -> Any:
            if draw() >= rate:
                return await function(*args, **kwargs)
            return await drive(function(*args, **kwargs), spec)

    return timed
