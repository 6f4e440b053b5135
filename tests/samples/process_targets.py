"""Functions for the process pool tests: module-level, so worker processes can import them.

This module imports nothing from fastapi_boundary (so a worker starts without
importing FastAPI); the ``@cpu_bound`` ones are in `process_marked`.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
import uuid


def scaled_sum(a: int, b: int, *, scale: int = 1) -> tuple[int, int]:
    """Return the process id it ran in, and a computed value."""
    return os.getpid(), (a + b) * scale


def spin(milliseconds: float) -> int:
    """Burn CPU for a while; return the worker's pid."""
    end = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < end:
        pass
    return os.getpid()


def echo(value: bytes) -> bytes:
    return value


def noop() -> None:
    return None


def takes_lock(n: int, lock: threading.Lock) -> int:
    return n


def returns_lock() -> threading.Lock:
    return threading.Lock()


def raises_value_error(n: int) -> int:
    if n > 0:
        raise ValueError(f"bad n: {n}")
    return n


class NeedsTwoArguments(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a} and {b}")


def raises_unpicklable() -> None:
    raise NeedsTwoArguments(1, 2)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def exit_hard(code: int) -> None:
    os._exit(code)


def wait_at_gate(gate: str) -> int:
    """Record the entry, then wait until the test opens the gate (`tests.helpers.Gate`)."""
    pid = os.getpid()
    with open(f"{gate}.entered-{pid}-{uuid.uuid4().hex}", "x"):
        pass
    with open(gate, "rb") as file:
        fcntl.flock(file, fcntl.LOCK_SH)
    return pid


def replaceable() -> None:
    """Rebound by a test: run_cpu must refuse the old function object."""


def pid() -> int:
    return os.getpid()


class Holder:
    @staticmethod
    def static_double(x: int) -> int:
        return 2 * x

    def method(self) -> int:
        return 1

    def __call__(self) -> int:
        return 1
