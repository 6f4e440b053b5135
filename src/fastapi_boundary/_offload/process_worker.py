"""The worker side of the process pool: a loop that runs one call at a time.

A worker is a fresh interpreter that loads this file by path (not by
importing the package), so it starts without importing FastAPI; only the
modules of the functions it runs are imported, on first use.  It imports
nothing from the package, and everything it sends back is plain data, so the
parent never has to unpickle a class of ours.

Protocol, over two pipes (the parent writes requests, the worker answers
each one in order)::

    request   8-byte length, pickle of (kind, payload)
    response  1-byte status, 8-byte length, body (see the statuses below)

``kind`` is ``INIT`` (payload: the parent's ``sys.path``; answered with an
empty ``OK`` once the worker is ready) or ``CALL`` (payload: module name,
qualified name, args, kwargs).  The worker exits on end of file: when the
parent closes the request pipe or dies.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any

INIT = 0
CALL = 1

OK = 0  # body: pickle of the result
RAISED = 1  # body: pickle of (exception, formatted traceback)
FAILED = 2  # body: pickle of (what, message, formatted traceback): nothing to re-raise

REQUEST_HEADER = struct.Struct("!Q")
RESPONSE_HEADER = struct.Struct("!BQ")

_functions: dict[tuple[str, str], Callable[..., Any]] = {}


def _resolve(module_name: str, qualname: str) -> Callable[..., Any]:
    key = (module_name, qualname)
    found = _functions.get(key)
    if found is None:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        found = _functions[key] = target
    return found


def _worker_traceback(error: BaseException) -> str:
    """The traceback from the called function down, without this loop's frame."""
    tb = error.__traceback__
    return "".join(traceback.format_exception(type(error), error, tb.tb_next if tb else None))


def _type_name(value: object) -> str:
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _answer(status: int, body: object) -> tuple[int, bytes]:
    return status, pickle.dumps(body, pickle.HIGHEST_PROTOCOL)


def handle(message: bytes) -> tuple[int, bytes]:
    """Run one request; never raises (every failure becomes an answer)."""
    try:
        kind, payload = pickle.loads(message)
    except BaseException as error:  # an argument whose class this process cannot import
        return _answer(FAILED, ("arguments", f"{_type_name(error)}: {error}", ""))
    if kind == INIT:
        sys.path[:] = payload
        return OK, b""
    module_name, qualname, args, kwargs = payload
    try:
        func = _resolve(module_name, qualname)
    except BaseException as error:
        text = f"{_type_name(error)}: {error}"
        return _answer(FAILED, ("target", text, _worker_traceback(error)))
    try:
        result = func(*args, **kwargs)
    except BaseException as error:
        tb = _worker_traceback(error)
        try:
            answer = _answer(RAISED, (error, tb))
            pickle.loads(answer[1])  # e.g. an __init__ that needs more than .args
        except BaseException as pickling_error:
            text = f"{_type_name(error)}: {error} ({_type_name(pickling_error)}: {pickling_error})"
            return _answer(FAILED, ("exception", text, tb))
        return answer
    try:
        return _answer(OK, result)
    except BaseException as error:
        text = f"{_type_name(result)} ({_type_name(error)}: {error})"
        return _answer(FAILED, ("result", text, ""))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main(request_fd: int, response_fd: int) -> None:
    """Serve requests until the parent closes the request pipe."""
    # Ctrl+C reaches the whole process group: the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        header = _read_exactly(request_fd, REQUEST_HEADER.size)
        if header is None:
            return
        message = _read_exactly(request_fd, REQUEST_HEADER.unpack(header)[0])
        if message is None:
            return
        status, body = handle(message)
        try:
            _write_all(response_fd, RESPONSE_HEADER.pack(status, len(body)) + body)
        except BrokenPipeError:  # the parent shut the pool down meanwhile: nothing to answer
            return
        del message, body
