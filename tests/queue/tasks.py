"""The Celery app and the tasks of the queue tests: what the test process sends and the workers run.

The workers load this module (``celery -A tests.queue.tasks worker``), so it
defines everything a worker needs at import time: the app, its broker (the
``FASTAPI_BOUNDARY_QUEUE_URL`` environment variable, set by the fixture that
starts the worker), the ``@queued`` tasks and the `CeleryBackend` that
registers ``run_cpu``'s generic task.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Celery

from fastapi_boundary import CeleryBackend, cpu_bound, queued

URL_VARIABLE = "FASTAPI_BOUNDARY_QUEUE_URL"
QUEUE = "fastapi-boundary-tests"

app = Celery("tests.queue.tasks")
app.conf.update(
    broker_url=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    result_backend=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    # fail fast when Redis is down: Celery's result backend retries 20 times, a second apart
    result_backend_transport_options={"retry_policy": {"max_retries": 2, "interval_max": 0.2}},
    result_expires=600,
)

backend = CeleryBackend(app, timeout=60)


@queued(app, timeout=60)
def add(a: int, b: int, *, scale: int = 1) -> int:
    return (a + b) * scale


@queued(app, timeout=60)
def worker_pid() -> int:
    return os.getpid()


@queued(app, timeout=60)
def describe(value: object) -> str:
    return f"{type(value).__name__}: {value!r}"


@queued(app, timeout=60)
def fails(n: int) -> int:
    raise ValueError(f"bad n: {n}")


@queued(app, timeout=60)
def wait_for_file(path: str) -> str:
    """Record that it started (``path + '.started'``), then wait until ``path`` exists."""
    Path(f"{path}.started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120  # a bound only a lost test reaches
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return Path(path).read_text() if os.path.exists(path) else "gave up"


@queued(app, timeout=2)
def never_answers(path: str) -> str:
    """Runs until the test creates ``path`` (the timeout test ends first)."""
    return wait_for_file(path)


@queued(app, timeout=60, acks_late=True, reject_on_worker_lost=True)
def crash_once(directory: str) -> str:
    """The first run records its pid and waits to be killed; the run after that returns."""
    first = Path(directory) / "first-run"
    if not first.exists():
        first.write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the test kills this process
            time.sleep(0.01)
        return "not killed"
    return f"ran again in {os.getpid()} after {first.read_text()} was killed"


@queued(app, timeout=60)
def burn(milliseconds: float) -> int:
    """CPU work for the throughput benchmark: returns the worker's pid."""
    end = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < end:
        pass
    return os.getpid()


@cpu_bound
def checksum(data: str, *, rounds: int = 1) -> tuple[int, int]:
    """A ``@cpu_bound`` function with no Celery decorator: ``run_cpu`` sends it to the backend."""
    total = 0
    for _ in range(rounds):
        total = sum(data.encode()) + total
    return os.getpid(), total
