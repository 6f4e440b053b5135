"""Helpers shared by the test modules (import them from here; never from another test module).

Waiting in tests: never sleep for a guessed time and assume something happened.  Wait
for the condition itself (an event, or `wait_until` for state that has no event), with a
generous bound (`WAIT`) that only a hang reaches, so a loaded CI machine is slower but
never wrong.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import inspect
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from importlib.metadata import version as anyio_version
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

ROOT = Path(__file__).resolve().parents[1]

WAIT = 60.0
"""Seconds to wait for something that takes milliseconds: reached only when it never happens."""


def line_of(where: Callable[..., Any] | type | Path, needle: str) -> int:
    """The first line of a function, class or file that contains ``needle`` (survives edits)."""
    if isinstance(where, Path):
        lines, first = where.read_text(encoding="utf-8").splitlines(), 1
    else:
        lines, first = inspect.getsourcelines(where)
    for offset, line in enumerate(lines):
        if needle in line:
            return first + offset
    raise AssertionError(f"{needle!r} not in {where}")


def cpu_loop(seconds: float) -> int:
    """Pure-Python work for at least ``seconds``: no call that anything could intercept."""
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(200))
    return total


def run_python(
    *args: str,
    cwd: Path | str = ROOT,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` (this interpreter) and capture its output as text.

    ``env`` changes this process's environment: a ``None`` value removes the variable.
    The timeout only stops a hung child; a healthy one takes a second or two.
    """
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


async def wait_until(predicate: Callable[[], bool], what: str = "", timeout: float = WAIT) -> None:
    """Let the event loop run until ``predicate()`` holds; fail after ``timeout`` seconds.

    For state that no event announces (a pool's statistics, a file another process
    writes).  Polling is the waiting, not the synchronisation: the test goes on only
    once the condition holds, however long the machine takes to get there.
    """
    deadline = anyio.current_time() + timeout
    while not predicate():
        if anyio.current_time() > deadline:
            raise AssertionError(f"still waiting after {timeout} s for {what or predicate}")
        await anyio.sleep(0.002)


class Gate:
    """A gate that calls in worker processes wait at until the test opens it.

    The test holds an exclusive ``flock`` on a file; the worker side
    (``tests.samples.process_targets.wait_at_gate``) first records that it
    entered (a file named after its pid), then waits for a shared lock on the
    same file.  A call at a closed gate is running and stays running, for as
    long as the test needs, without any sleep; calls after `open` pass at once.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = str(directory / "gate")
        self._file: Any = open(self.path, "wb")  # noqa: SIM115 - held open until open()
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def entered(self) -> list[int]:
        """Pids of the calls that reached the gate so far (one entry per call)."""
        prefix = "gate.entered-"
        return [
            int(name[len(prefix) :].split("-")[0])
            for name in os.listdir(self.directory)
            if name.startswith(prefix)
        ]

    def open(self) -> None:
        """Let every waiting call (and every later one) through; idempotent."""
        if not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()


#: The anyio backends the async tests run on: trio only on anyio >= 4 (anyio 3.7's trio backend
#: needs trio < 0.22, which warns on import under pytest).
ANYIO_BACKENDS = [
    "asyncio",
    pytest.param(
        "trio",
        marks=pytest.mark.skipif(
            int(anyio_version("anyio").split(".")[0]) < 4,
            reason="needs anyio >= 4: anyio 3's trio backend needs trio < 0.22",
        ),
    ),
]

#: FastAPI >= 0.123.10 resolves the string annotations (``from __future__ import annotations``)
#: of a class dependency's ``__init__`` or an instance's ``__call__``; older releases look for
#: ``__globals__`` on the callable itself, which classes and instances lack.
FASTAPI_RESOLVES_METHOD_ANNOTATIONS = hasattr(
    importlib.import_module("fastapi.dependencies.models"), "_impartial"
)
NEEDS_METHOD_ANNOTATIONS = pytest.mark.skipif(
    not FASTAPI_RESOLVES_METHOD_ANNOTATIONS,
    reason="needs FastAPI >= 0.123.10: older releases cannot resolve string annotations of a "
    "callable instance's __call__ (from __future__ import annotations)",
)

#: The example bookshops declare their session dependency with ``Depends(..., scope="function")``
#: (FastAPI >= 0.121), so tests that import them skip on older releases.
NEEDS_DEPENDS_SCOPE = pytest.mark.skipif(
    "scope" not in inspect.signature(importlib.import_module("fastapi").Depends).parameters,
    reason="needs FastAPI >= 0.121: the example apps use Depends(scope=...)",
)


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[tuple[str, int]]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yield (host, port).

    For what needs a real server: a client that really disconnects.  The app runs on
    uvicorn's own event loop in that thread, its lifespan included; stopping is bounded.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        await wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn failed to start"
        yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, WAIT)
    assert not thread.is_alive(), f"uvicorn did not stop within {WAIT} s"
