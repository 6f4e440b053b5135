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


# --- the fault battery (tests/offload/test_process_faults.py) ---------------------------------


def hang(directory: str) -> None:
    """Record this worker's pid in ``directory``, then never return (a hung call)."""
    with open(os.path.join(directory, f"worker-{os.getpid()}"), "x"):
        pass
    threading.Event().wait()


def shell_out(text: str) -> tuple[int, list[str]]:
    """Print through a shell; report what fds 0, 1 and 2 lead to (a child inherits them)."""
    os.system(f"echo {text}")
    os.system(f"echo {text} >&2")
    return os.getpid(), [os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)]


def leave_grandchild_and_die(directory: str) -> None:
    """Start a long-lived child (which inherits what the worker lets it), then crash."""
    import subprocess

    child = subprocess.Popen(["sleep", "3600"])
    with open(os.path.join(directory, f"grandchild-{child.pid}"), "x"):
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def path_length() -> tuple[int, int]:
    import sys

    return os.getpid(), len(sys.path)


def change_state(entry: str, directory: str, nofile: int) -> int:
    """Change what a call should not leave behind: sys.path, the working folder, a soft limit."""
    import resource
    import sys

    sys.path.append(entry)
    os.chdir(directory)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    return os.getpid()


def lower_hard_limit(nofile: int) -> int:
    """Lower a hard limit, which an unprivileged process can never raise again."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return os.getpid()


def state() -> tuple[int, str, str, int]:
    import resource
    import sys

    return os.getpid(), sys.path[-1], os.getcwd(), resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raises_from_private_module(directory: str) -> None:
    """Raise an exception of a module only this worker can import (its folder is not on the
    parent's sys.path)."""
    import importlib
    import sys

    with open(os.path.join(directory, "worker_only_errors.py"), "w") as module:
        module.write("class WorkerOnlyError(Exception):\n    pass\n")
    sys.path.insert(0, directory)
    raise importlib.import_module("worker_only_errors").WorkerOnlyError("boom")


def imports_fastapi() -> bool:
    import sys

    return "fastapi" in sys.modules
