"""How the guard sees a blocking call: an audit hook, targeted wrappers, re-bound names.

Three mechanisms, all driven by the catalogue, all undone by `restore`:

- a PEP 578 audit hook (added once per process, a single dict lookup when
  the guard is off) for entries with an ``audit_event``: it fires however
  the callable was reached, so ``from time import sleep`` bound before the
  guard was switched on is caught (CPython 3.11+ emits ``time.sleep``);
- wrappers set on module attributes and on methods of *Python* classes
  (``os.stat``, ``socket.socket.connect``, ``requests.Session.request``…);
  C types (``_io.TextIOWrapper``, ``sqlite3.Cursor``) cannot be patched
  without forbiddenfruit and are left to step timing;
- re-binding: module globals of already-imported modules that *are* a wrapped
  original (``from os import stat``), and ``@blocking``/``@cpu_bound``
  functions and methods, are replaced by their wrapper.

Off the loop a wrapper costs one ``get_ident()`` and one dict lookup before
calling the original.  On the loop the slow path decides whether the call
really blocks (non-blocking sockets, ``block=False``, asyncio's own
machinery are let through), reports it, and runs the original with the
thread suspended from the registry so nested calls are not reported twice.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import keyword
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from .._common import catalog as _catalog
from .._common.catalog import BlockingEntry
from .._common.declarations import BLOCKING_ATTR, CPU_BOUND_ATTR, ORIGINAL_ATTR
from .detection import Detection, _loop_threads, get_ident, report, suspended, where

__all__ = ["Interceptor", "Target", "check", "make_wrapper", "wrap_marked"]


#: Caught by their audit event everywhere; wrapping them would touch every file open.
_AUDIT_ONLY = frozenset({"builtins.open", "io.open", "_io.open", "builtins.input"})

#: Packages whose own calls on the loop are the loop's business (selectors, self-pipe,
#: non-blocking sockets, the test runner's queues, imports).
_MACHINERY = frozenset(
    {
        "asyncio",
        "anyio",
        "trio",
        "sniffio",
        "selectors",
        "concurrent",
        "threading",
        "uvloop",
        "uvicorn",
        "h11",
        "httptools",
        "importlib",
        "zipimport",
        "linecache",
        "_pytest",
        "pytest",
        "pluggy",
        "coverage",
        "fastapi_boundary",
    }
)

#: Modules never re-bound: the runtime machinery (and this package).
_NO_REBIND = _MACHINERY | {
    "builtins",
    "sys",
    "posix",  # the import system holds it as `_os`: it must keep the C functions
    "nt",
    "_io",
    "_thread",
    "threading",
    "queue",
    "socket",
    "_socket",
    "ssl",
}

_LOCK_KEYWORDS = ("block", "blocking")


@dataclass(frozen=True)
class Target:
    """What a wrapper reports: the callable's name, its category and the fix."""

    name: str
    category: str
    fix: str

    @classmethod
    def of(cls, entry: BlockingEntry, name: str | None = None) -> Target:
        return cls(name or entry.name, entry.category, entry.fix)


def _package(frame: types.FrameType) -> str:
    name = frame.f_globals.get("__name__")
    if isinstance(name, str):
        return name.partition(".")[0]
    filename = frame.f_code.co_filename
    return "importlib" if filename.startswith("<frozen importlib") else ""


def _from_machinery(frame: types.FrameType | None) -> bool:
    """Whether the call was made by the loop's machinery rather than by user code.

    Walk outwards from the caller through standard-library and third-party
    frames; a machinery package met before any user frame means asyncio,
    anyio, trio or the import system made the call for its own purposes.
    """
    from .detection import _is_foreign

    while frame is not None:
        if _package(frame) in _MACHINERY:
            return True
        filename = frame.f_code.co_filename
        if not filename.startswith("<frozen") and not _is_foreign(filename):
            return False
        frame = frame.f_back
    return False


def _free_now(method: str, receiver: Any) -> bool:
    """A wait that returns at once: a free semaphore, a queue with room or with an item.

    What matters on the loop is whether the call waits; an uncontended
    acquire in a test would otherwise be reported for code that never waits.
    """
    if method == "acquire":  # threading.Semaphore keeps its free count in _value
        value = getattr(receiver, "_value", None)
        return isinstance(value, int) and value > 0
    if method == "put":
        full = getattr(receiver, "full", None)
        return callable(full) and not full()
    if method == "get":
        size = getattr(receiver, "qsize", None)
        return callable(size) and size() > 0
    return False


def _does_not_block(entry: Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Calls that cannot block: non-blocking sockets, ``block=False``, zero timeouts, done waits."""
    receiver: Any = args[0] if args else None
    if entry.category == "net" and hasattr(receiver, "gettimeout"):
        try:
            return bool(receiver.gettimeout() == 0.0)
        except OSError:  # a closed socket: the call fails at once
            return True
    if entry.name == "select.select":
        timeout = args[3] if len(args) > 3 else kwargs.get("timeout")
        return timeout == 0
    if entry.category != "lock":
        return False
    for flag in _LOCK_KEYWORDS:
        if kwargs.get(flag) is False:
            return True
    if kwargs.get("timeout") == 0:
        return True
    method = entry.name.rpartition(".")[2]
    if method in ("get", "put"):  # queue.Queue.get(block, timeout) / put(item, block, timeout)
        positional = args[1:] if method == "get" else args[2:]
        if positional and positional[0] is False:
            return True
    if _free_now(method, receiver):
        return True
    for attribute in ("is_set", "done"):
        check = getattr(receiver, attribute, None)
        if callable(check) and check():
            return True
    alive = getattr(receiver, "is_alive", None)
    return callable(alive) and not alive()


def check(
    entry: Target, frame: types.FrameType | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bool:
    """On a loop thread: report ``entry`` unless the call cannot block or is the loop's own.

    Returns whether it was reported (and not raised: warn mode, or exempt).
    """
    __tracebackhide__ = True
    return not _does_not_block(entry, args, kwargs) and _report(entry, frame)


def _report(entry: Target, frame: types.FrameType | None) -> bool:
    """Report a call that can block, unless the loop's machinery made it."""
    __tracebackhide__ = True
    if _from_machinery(frame):
        return False
    site, route, layer, mode = where(frame)
    name, category, fix = entry.name, entry.category, entry.fix
    report(Detection("call", name, category, site, route, layer, mode, None, fix))
    return True


def _on_loop(
    entry: Target,
    original: Callable[..., Any],
    frame: types.FrameType | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    __tracebackhide__ = True
    if _does_not_block(entry, args, kwargs):  # asyncio's own socket calls: the common case
        return original(*args, **kwargs)
    if _driven_by_async_driver(entry):
        # Not suspended: the greenlet switches back to the loop while the driver awaits,
        # and blocking calls made meanwhile (or by listeners inside) must still be seen.
        return original(*args, **kwargs)
    if not _report(entry, frame):
        with suspended():
            return original(*args, **kwargs)
    start = perf_counter()
    try:
        with suspended():
            return original(*args, **kwargs)
    finally:
        steps = sys.modules.get("fastapi_boundary._runtime.step_timing")
        if steps is not None:  # step timing must not report this call a second time
            steps.claim(perf_counter() - start)


_WRAPPER = """
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
_EXACT_WRAPPER = """
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


def _template_file(entry: Target) -> str:
    """The file name a generated wrapper reports: never lines of this module in a traceback."""
    return f"<fastapi_boundary guard wrapper of {entry.name}>"


def _usable(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in ("args", "kwargs", "wrapper", "make")
        and not name.startswith("_b_")
    )


def _exact_source(original: object) -> str | None:
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
    return _EXACT_WRAPPER.format(
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


def frame_above(depth: int) -> types.FrameType | None:
    """The frame ``depth`` levels above the wrapper's caller, or ``None`` at the stack's bottom.

    A wrapper can be the first frame of its thread or greenlet (SQLAlchemy's
    ``greenlet_spawn(engine.connect)``): there is no caller to name.
    """
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None


def _driven_by_async_driver(entry: Target) -> bool:
    """SQLAlchemy's sync core running inside its asyncio extension.

    ``AsyncSession``/``AsyncEngine`` run the sync ``Session``/``Engine`` in a
    greenlet on the loop thread and do every I/O through the async driver, so
    those calls do not block.  Only SQLAlchemy's own entries are let through:
    a ``time.sleep`` in an event listener is still caught.
    """
    if not entry.name.startswith("sqlalchemy."):
        return False
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return False
    current = greenlet.getcurrent()
    return getattr(current, "__sqlalchemy_greenlet_provider__", False) is True


def make_wrapper(original: Callable[..., Any], entry: Target) -> Callable[..., Any]:
    """A wrapper that reports ``entry`` when ``original`` runs on a loop thread.

    Off the loop it costs one ``get_ident()`` and one dict lookup; its
    signature accepts exactly what ``original`` accepts.
    """
    loops = _loop_threads
    ident = get_ident
    exact = _exact_source(original)
    first = _first_parameter(original)
    wrapper: Callable[..., Any]
    namespace: dict[str, Any] = {"_b_pack": _pack}
    if exact is not None:
        exec(compile(exact, _template_file(entry), "exec"), namespace)  # a fixed template
        make = namespace["make"]
        wrapper = make(original, entry, ident, loops, _on_loop, frame_above, _MISSING)
    elif first is not None:
        source = _WRAPPER.format(first=first[0], name=first[1])
        exec(compile(source, _template_file(entry), "exec"), namespace)  # a fixed template
        wrapper = namespace["make"](original, entry, ident, loops, _on_loop, frame_above)
    else:

        def generic(*args: Any, **kwargs: Any) -> Any:
            if ident() in loops:
                return _on_loop(entry, original, frame_above(1), args, kwargs)
            return original(*args, **kwargs)

        wrapper = generic
    with contextlib.suppress(AttributeError, TypeError):  # exotic callables
        functools.update_wrapper(wrapper, original)
    setattr(wrapper, ORIGINAL_ATTR, original)
    return wrapper


def _marked_target(func: Any) -> Target | None:
    """What a ``@blocking``/``@cpu_bound`` function reports (``None`` when unmarked)."""
    marks = getattr(func, "__dict__", None)
    if not isinstance(marks, dict) or ORIGINAL_ATTR in marks:
        return None
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
    if marks.get(CPU_BOUND_ATTR) is True:
        fix = f"run it in a worker process: `await run_cpu({func.__name__}, ...)`"
    elif BLOCKING_ATTR in marks:
        fix = f"offload it: `await run_blocking({func.__name__}, ...)`"
    else:
        return None
    return Target(name, "marked", fix + ", or make the endpoint `def`")


def wrap_marked(func: Any) -> Any:
    """The guard's wrapper for a marked function (``func`` itself when it is not marked)."""
    target = _marked_target(func)
    return func if target is None else make_wrapper(func, target)


def _resolve(name: str) -> tuple[object, str, object] | None:
    """``(holder, attribute, value)`` for an imported ``module[.Class].attr`` (no imports)."""
    module_name, _, attr = name.rpartition(".")
    owner_path: list[str] = []
    while module_name and module_name not in sys.modules:
        module_name, _, part = module_name.rpartition(".")
        owner_path.insert(0, part)
    module = sys.modules.get(module_name) if module_name else None
    if module is None:
        return None
    holder: object = module
    for part in owner_path:
        holder = vars(holder).get(part) if isinstance(holder, types.ModuleType) else None
        if not isinstance(holder, type):
            return None
    if isinstance(holder, type):
        for klass in holder.__mro__:
            if attr in vars(klass):
                return holder, attr, vars(klass)[attr]
        return None
    value = vars(holder).get(attr)
    return None if value is None else (holder, attr, value)


class Interceptor:
    """The wrappers and re-bindings in force, and how to undo them."""

    def __init__(self) -> None:
        self.events: dict[str, Target] = {}
        self._wrappers: dict[int, Callable[..., Any]] = {}  # id(original) -> wrapper
        self._originals: dict[int, object] = {}  # keeps the originals alive (ids stay valid)
        self._undo: list[tuple[object, str, bool, object]] = []
        self._done: set[tuple[int, str]] = set()
        self._scanned: set[str] = set()
        self._modules_seen = -1
        self._lock = threading.RLock()  # two loop threads may catch up at once

    # --- audit events -----------------------------------------------------------

    def audit_events(self) -> dict[str, BlockingEntry]:
        events: dict[str, BlockingEntry] = {}
        for entry in _catalog.entries():
            if entry.audit_event is None:
                continue
            current = events.get(entry.audit_event)
            # the entry named like its event describes it best (subprocess.Popen for Popen)
            if current is None or entry.name == entry.audit_event:
                events[entry.audit_event] = entry
        return events

    # --- wrapping -----------------------------------------------------------------

    def set(self, holder: object, attr: str, value: object) -> None:
        key = (id(holder), attr)
        if key in self._done:
            return
        own = attr in vars(holder)
        previous = vars(holder).get(attr)
        try:
            setattr(holder, attr, value)
        except (AttributeError, TypeError):  # a C type: step timing covers it
            return
        self._done.add(key)
        self._undo.append((holder, attr, own, previous))

    def _wrapper_for(self, original: object, entry: Target) -> Callable[..., Any] | None:
        wrapper = self._wrappers.get(id(original))
        if wrapper is None:
            if not callable(original) or ORIGINAL_ATTR in getattr(original, "__dict__", {}):
                return None
            wrapper = make_wrapper(original, entry)
            self._wrappers[id(original)] = wrapper
            self._originals[id(original)] = original
        return wrapper

    def wrap_catalogue(self) -> bool:
        """Wrap every imported catalogue entry; ``True`` when new originals were found."""
        found = False
        for entry in _catalog.entries():
            if entry.is_wildcard:
                self._wrap_class(entry)
                continue
            for name in entry.names:
                if name in _AUDIT_ONLY:
                    continue
                resolved = _resolve(name)
                if resolved is None:
                    continue
                holder, attr, value = resolved
                raw = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                new = id(raw) not in self._wrappers
                wrapper = self._wrapper_for(raw, Target.of(entry))
                if wrapper is None:
                    continue
                found = found or new
                replacement: object = wrapper
                if isinstance(value, staticmethod):
                    replacement = staticmethod(wrapper)
                elif isinstance(value, classmethod):
                    replacement = classmethod(wrapper)
                self.set(holder, attr, replacement)
        return found

    def _wrap_class(self, entry: BlockingEntry) -> None:
        resolved = _resolve(entry.name[:-2] + ".__init__")
        if resolved is None or not isinstance(resolved[0], type):
            return
        cls = resolved[0]
        for attr, value in list(vars(cls).items()):
            if attr.startswith("_") or not isinstance(value, types.FunctionType):
                continue
            wrapper = self._wrapper_for(value, Target.of(entry, f"{entry.name[:-2]}.{attr}"))
            if wrapper is not None:
                self.set(cls, attr, wrapper)

    # --- re-binding ---------------------------------------------------------------

    def rebind(self, *, everything: bool = False) -> None:
        """Re-bind early-bound originals and marked callables in imported modules."""
        modules = list(sys.modules.items())
        self._modules_seen = len(sys.modules)
        for name, module in modules:
            if not everything and name in self._scanned:
                continue
            self._scanned.add(name)
            if not isinstance(module, types.ModuleType) or name.partition(".")[0] in _NO_REBIND:
                continue
            try:
                namespace = vars(module)
            except TypeError:  # pragma: no cover - a module without __dict__
                continue
            for attr, value in list(namespace.items()):
                self._rebind_value(module, name, attr, value)

    def _rebind_value(self, holder: object, module_name: str, attr: str, value: object) -> None:
        wrapper = self._wrappers.get(id(value))
        if wrapper is not None and self._originals.get(id(value)) is value:
            self.set(holder, attr, wrapper)
            return
        if isinstance(value, types.FunctionType):
            if _marked_target(value) is not None:
                self.set(holder, attr, self._marked_wrapper(value))
        elif isinstance(value, type) and value.__module__ == module_name:
            for member_name, member in list(vars(value).items()):
                raw = getattr(member, "__func__", member)
                if isinstance(raw, types.FunctionType) and _marked_target(raw) is not None:
                    wrapped: object = self._marked_wrapper(raw)
                    if isinstance(member, staticmethod):
                        wrapped = staticmethod(wrapped)  # type: ignore[arg-type]
                    elif isinstance(member, classmethod):
                        wrapped = classmethod(wrapped)  # type: ignore[arg-type]
                    self.set(value, member_name, wrapped)

    def _marked_wrapper(self, func: types.FunctionType) -> Callable[..., Any]:
        wrapper = self._wrappers.get(id(func))
        if wrapper is None:
            wrapper = wrap_marked(func)
            self._wrappers[id(func)] = wrapper
            self._originals[id(func)] = func
        return wrapper

    def refresh(self) -> bool:
        """Catch up with modules imported since the last look; ``False`` when none were."""
        if len(sys.modules) == self._modules_seen:
            return False
        with self._lock, suspended():
            new_originals = self.wrap_catalogue()
            self.rebind(everything=new_originals)
            self.events = {event: Target.of(entry) for event, entry in self.audit_events().items()}
        return True

    def restore(self) -> None:
        """Undo every wrapper and re-binding, newest first."""
        for holder, attr, own, previous in reversed(self._undo):
            try:
                if own:
                    setattr(holder, attr, previous)
                else:
                    delattr(holder, attr)
            except (AttributeError, TypeError):  # pragma: no cover - the holder changed
                pass
        self._undo.clear()
        self._done.clear()
        self._wrappers.clear()
        self._originals.clear()
        self._scanned.clear()
        self._modules_seen = -1
        self.events = {}
