"""The worker's side of a ``run_cpu`` call: what anyio's worker process runs for each one.

``anyio.to_process.run_sync(call, parent, alarm, request)`` pickles `call` by
reference, so anyio's worker imports this module by name: it imports only the
standard library (``fastapi_boundary/__init__`` is lazy), and a worker imports
FastAPI only if a target does.  The request is pickled on its own, so an
argument the worker cannot unpickle fails that call only and never leaves
anyio's stream half read.  Around each call it:

- points fd 0 at ``/dev/null`` and fd 1 at fd 2, so a process the target
  starts (``os.system("convert ...")``), or C code printing to stdout, cannot
  read or write anyio's pipes, nor keep them open after the worker dies;
- arms ``SIGALRM`` for the pool's time limit, at its default action, so the
  kernel ends the worker even in C code that holds the GIL (a runaway regex);
- puts back ``sys.path``, the working directory and the resource limits the
  target changed; a hard limit it lowered cannot be raised again, so the
  answer asks the parent to retire the worker (`tainted`);
- returns the target's exception, pickled, with its traceback text, instead
  of raising it, and the result pickled by itself, so the parent can tell the
  target's failures from the pool's and name what could not be pickled.

Once per worker it ignores ``SIGINT`` (Ctrl+C reaches the whole process group;
anyio's idle worker would otherwise answer a call nobody made), sends its
stderr to the server's (Linux: a file, pipe or terminal; else ``/dev/null``:
anyio gives it a pipe nobody reads), and ties the worker's life to its
parent's: on Linux the kernel kills it when the thread that started it dies
(``PR_SET_PDEATHSIG``), elsewhere on POSIX a daemon thread polls
``os.getppid()``; a worker that finds its parent gone exits at once.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

OK = 0  # body: pickle of the result
RAISED = 1  # body: pickle of (exception, formatted traceback)
FAILED = 2  # body: pickle of (what, message, formatted traceback): nothing to re-raise

Answer = tuple[int, bytes, int, str]
"""``(status, body, pid, tainted)``: ``tainted`` names per-call state that could not be put back
(the parent then retires worker ``pid``)."""

_PARENT_POLL = 0.2  # seconds between two looks at os.getppid() where the kernel cannot help
_LIMITS = (
    "RLIMIT_AS",
    "RLIMIT_CORE",
    "RLIMIT_CPU",
    "RLIMIT_DATA",
    "RLIMIT_FSIZE",
    "RLIMIT_NOFILE",
    "RLIMIT_RSS",
    "RLIMIT_STACK",
)

_functions: dict[tuple[str, str], Callable[..., Any]] = {}
_parent: int | None = None
_pid = os.getpid()
_null_fd = -1


WORKER_ALARM = hasattr(signal, "setitimer")
"""Whether a worker can bound its own call (POSIX): SIGALRM, left at its default, ends it."""


def call(parent: int, alarm: float | None, request: bytes) -> Answer:
    """Run one ``(module, qualname, args, kwargs)`` request; never raises.

    ``alarm``: the call's time limit in seconds.  Past it, SIGALRM (at its
    default disposition) ends the worker wherever it is, C code included;
    the parent reports the time limit.
    """
    if _parent != parent:
        _set_up(parent)
    try:
        module_name, qualname, args, kwargs = pickle.loads(request)
    except BaseException as error:  # an argument whose class this process cannot import
        return _answer(FAILED, ("arguments", _error_text(error), ""))
    try:
        func = _resolve(module_name, qualname)
    except BaseException as error:
        return _answer(FAILED, ("target", _error_text(error), _traceback(error)))
    _enter()
    if alarm:
        _setitimer(signal.ITIMER_REAL, alarm)
    try:
        result = func(*args, **kwargs)
    except BaseException as error:
        if alarm:
            _setitimer(signal.ITIMER_REAL, 0)
        tainted = _leave()
        return _raised(error, tainted)
    if alarm:
        _setitimer(signal.ITIMER_REAL, 0)
    tainted = _leave()
    try:
        return OK, pickle.dumps(result, pickle.HIGHEST_PROTOCOL), _pid, tainted
    except BaseException as error:
        return _answer(FAILED, ("result", f"{_type_name(result)} ({_error_text(error)})", ""))


def _raised(error: BaseException, tainted: str) -> Answer:
    tb = _traceback(error)
    try:
        body = pickle.dumps((error, tb), pickle.HIGHEST_PROTOCOL)
        pickle.loads(body)  # e.g. an __init__ that needs more than .args
    except BaseException as pickling_error:
        text = f"{_error_text(error)} ({_error_text(pickling_error)})"
        return _answer(FAILED, ("exception", text, tb), tainted)
    return RAISED, body, _pid, tainted


def _answer(status: int, body: object, tainted: str = "") -> Answer:
    return status, pickle.dumps(body, pickle.HIGHEST_PROTOCOL), _pid, tainted


def _resolve(module_name: str, qualname: str) -> Callable[..., Any]:
    key = (module_name, qualname)
    found = _functions.get(key)
    if found is None:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        found = _functions[key] = target
    return found


def _traceback(error: BaseException) -> str:
    """The traceback from the called function down, without this module's frame."""
    tb = error.__traceback__
    return "".join(traceback.format_exception(type(error), error, tb.tb_next if tb else None))


def _type_name(value: object) -> str:
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _error_text(error: BaseException) -> str:
    return f"{_type_name(error)}: {error}"


# --- per-call state ---------------------------------------------------------------------------
#
# The worker's state as its first call found it is the baseline every call ends with.  Only
# ``sys.path`` is compared after each call; the working directory and resource limits are put
# back when the target changed them through ``os.chdir``/``os.fchdir`` or ``resource.setrlimit``/
# ``prlimit`` (wrapped in the worker): comparing them after every call would cost a dozen
# system calls per call.  Changes made from C code are not seen.

_path: list[str] = []
_cwd = ""
_limits: list[tuple[int, tuple[int, int]]] = []
_touched: set[str] = set()
_anyio_stdin = _anyio_stdout = -1  # private copies of anyio's pipes (fds 0 and 1), not inherited


def _enter() -> None:
    """Hide anyio's pipes from the call: fd 0 reads /dev/null, fd 1 writes where fd 2 does."""
    if _anyio_stdin >= 0:
        os.dup2(_null_fd, 0)
        os.dup2(2, 1)


def _leave() -> str:
    """Give anyio its pipes back and put back the baseline; return what could not be ('' if all)."""
    if _anyio_stdin >= 0:
        os.dup2(_anyio_stdin, 0)
        os.dup2(_anyio_stdout, 1)
    if sys.path != _path:
        sys.path[:] = _path
    if not _touched:
        return ""
    problems: list[str] = []
    if "cwd" in _touched and _cwd:
        try:
            if os.getcwd() != _cwd:
                _chdir(_cwd)
        except OSError as error:
            problems.append(f"the working directory ({error})")
    if "limits" in _touched:
        import resource

        for number, before in _limits:
            if resource.getrlimit(number) != before:
                try:
                    _setrlimit(number, before)
                except (OSError, ValueError) as error:  # a lowered hard limit stays lowered
                    problems.append(f"resource limit {number} ({error})")
    _touched.clear()
    return "; ".join(problems)


def _noting(what: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def noted(*args: Any, **kwargs: Any) -> Any:
        _touched.add(what)
        return func(*args, **kwargs)

    noted.__wrapped__ = func  # type: ignore[attr-defined]
    return noted


_setitimer: Callable[..., Any] = getattr(signal, "setitimer", lambda *args: None)
_chdir: Callable[..., Any] = os.chdir
_setrlimit: Callable[..., Any] = lambda *args: None  # noqa: E731 - replaced at set-up


def _take_baseline() -> None:
    """Remember the worker's state and note every change a call makes to what cannot be compared
    cheaply."""
    global _path, _cwd, _chdir, _setrlimit
    _path = list(sys.path)
    try:
        _cwd = os.getcwd()
    except OSError:  # pragma: no cover - removed working directory
        _cwd = ""
    _chdir = os.chdir
    os.chdir = _noting("cwd", os.chdir)
    if hasattr(os, "fchdir"):  # not on Windows
        os.fchdir = _noting("cwd", os.fchdir)
    if sys.platform == "win32":  # pragma: no cover - no resource module
        return
    import resource

    for name in _LIMITS:
        number = getattr(resource, name, None)
        if number is not None:
            _limits.append((number, resource.getrlimit(number)))
    _setrlimit = resource.setrlimit
    resource.setrlimit = _noting("limits", resource.setrlimit)
    if hasattr(resource, "prlimit"):
        resource.prlimit = _noting("limits", resource.prlimit)


# --- once per worker --------------------------------------------------------------------------


def _set_up(parent: int) -> None:
    """The first call in this worker: ignore Ctrl+C, open /dev/null, die with the parent."""
    global _parent, _null_fd, _pid, _anyio_stdin, _anyio_stdout
    _parent, _pid = parent, os.getpid()
    _take_baseline()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if WORKER_ALARM:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    if os.name != "posix":  # pragma: no cover - Windows: anyio's worker exits at end of input
        return
    try:
        _null_fd = os.open(os.devnull, os.O_RDWR)
    except OSError:  # pragma: no cover - no /dev/null: leave the descriptors as they are
        _null_fd = -1
    else:
        # anyio gives the worker a stderr pipe it never reads: 64 KiB written there would block
        # the worker for good.  The server's own stderr instead (Linux), else nowhere.
        stderr = _parent_stderr(parent)
        os.dup2(_null_fd if stderr < 0 else stderr, 2)
        if stderr >= 0:
            os.close(stderr)
        _anyio_stdin, _anyio_stdout = os.dup(0), os.dup(1)  # os.dup: not inheritable
    if not _kernel_lifeline():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the lifeline was in place
        os._exit(70)


def _parent_stderr(parent: int) -> int:
    try:
        return os.open(f"/proc/{parent}/fd/2", os.O_WRONLY | os.O_APPEND)
    except OSError:  # not Linux, or a socket (journald): nowhere
        return -1


def _kernel_lifeline() -> bool:
    """Linux: SIGKILL this worker when the thread that started it ends (the parent's loop)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        return bool(libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: poll instead
        return False


def _watch_parent(parent: int) -> None:  # pragma: no cover - not Linux
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL)
    os._exit(70)
