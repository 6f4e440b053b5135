"""What comes back from a worker, turned into the call's result or an error that says why.

The worker (`process_trampoline`) answers every call with a status and a
pickled body; a worker that died answers nothing, and anyio raises
``BrokenWorkerProcess``.  This module is the parent's side of both: it
re-raises the target's exception with the worker's traceback, names the value
or class that could not cross, and words a crash with the signal or exit code.
"""

from __future__ import annotations

import pickle
import signal
import sys
from typing import Any

from .._common.errors import (
    ProcessPicklingError,
    ProcessTargetError,
    RemoteTraceback,
    WorkerCrashedError,
)
from .process_targets import call_text, describe, type_name_of
from .process_trampoline import OK, RAISED

__all__ = ["crashed", "decode", "exit_cause", "start_failed"]


def _attach_traceback(error: BaseException, text: str, pid: int | None) -> None:
    """Keep the worker's frames: a note (3.11+) or a ``__cause__`` (3.10), as concurrent.futures."""
    if not text:
        return
    where = f"Worker process {pid}" if pid is not None else "Worker process"
    if sys.version_info >= (3, 11):
        error.add_note(f"{where}: {text.rstrip()}")
    else:  # pragma: no cover - version dependent
        error.__cause__ = RemoteTraceback(f'\n{where}:\n"""\n{text}"""')


def decode(status: int, body: bytes, func: object, pid: int) -> Any:
    """The result of an answer, or raise what it says (the target's exception or ours)."""
    if status == OK:
        try:
            return pickle.loads(body)
        except Exception as error:
            raise ProcessPicklingError(
                f"{describe(func)} returned a value this process cannot unpickle "
                f"({type_name_of(error)}: {error}). Fix: return plain data, or instances of "
                f"classes defined at module level of a module both processes import."
            ) from error
    if status == RAISED:
        try:
            raised, text = pickle.loads(body)
        except Exception as error:  # a class that exists only in the worker
            raise ProcessPicklingError(
                f"{describe(func)} raised an exception in the worker process that this process "
                f"cannot unpickle ({type_name_of(error)}: {error}). Fix: define the exception "
                f"class at module level of a module both processes import."
            ) from None
        _attach_traceback(raised, text, pid)
        raise raised
    what, text, worker_tb = pickle.loads(body)
    failure: ProcessTargetError | ProcessPicklingError
    if what == "result":
        failure = ProcessPicklingError(
            f"{describe(func)} returned a {text}: it cannot be pickled to send it back from the "
            f"worker process. Fix: return plain data (numbers, str, bytes, lists, dicts, "
            f"dataclasses of those)."
        )
    elif what == "exception":
        failure = ProcessPicklingError(
            f"{describe(func)} raised {text} in the worker process, and that exception cannot "
            f"be sent back. Fix: give the exception class an __init__ that accepts its .args "
            f"(or a __reduce__)."
        )
    elif what == "target":
        failure = ProcessTargetError(
            f"the worker process cannot import {describe(func)}: {text}. Fix: make its module "
            f"importable without side effects from the same sys.path."
        )
    else:
        failure = ProcessPicklingError(
            f"the worker process cannot unpickle the arguments of {describe(func)}: {text}. "
            f"Fix: pass instances of classes defined at module level of an importable module."
        )
    _attach_traceback(failure, worker_tb, pid)
    raise failure


def exit_cause(returncode: int | None) -> str:
    """How a worker ended, in words: the exit code, or the signal and what usually sends it."""
    if returncode is None:
        return "died (its exit status is unknown)"
    if returncode >= 0:
        return (
            f"exited with code {returncode} (os._exit() or a fatal error in the worker; its "
            f"stderr may say which)"
        )
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name == "SIGKILL":
        return f"was killed by {name} (the out-of-memory killer, a container limit or kill -9)"
    if name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGABRT", "SIGFPE"):
        return f"was killed by {name} (a crash in native code, e.g. a C extension)"
    return f"was killed by {name}"


def crashed(func: object, pid: int | None, returncode: int | None) -> WorkerCrashedError:
    """The error of a call whose worker died under it."""
    worker = f"the worker process (pid {pid})" if pid is not None else "the worker process"
    return WorkerCrashedError(
        f"{call_text(func)}: {worker} {exit_cause(returncode)} while running it. The pool "
        f"replaced the worker; the next call runs in a new one.",
        exitcode=returncode,
    )


def start_failed(func: object, error: BaseException) -> WorkerCrashedError:
    """The error of a call for which anyio could not start a worker process."""
    cause = error.__cause__
    why = f"{type_name_of(cause)}: {cause}" if cause is not None else str(error) or "no answer"
    return WorkerCrashedError(
        f"{call_text(func)}: a worker process could not start ({why}). anyio's worker runs "
        f"{sys.executable} -m anyio.to_process and then the program's main script as "
        f"__mp_main__, as multiprocessing does. Fix: keep the main script's work under "
        f"if __name__ == '__main__': and check that the modules on sys.path import without "
        f"error."
    )
