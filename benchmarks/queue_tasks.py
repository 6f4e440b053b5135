"""The Celery app and tasks of bench_queue.py; its worker processes import this module by name.

One queue per worker pool (1, 2 and 4 processes), so that the three pools run side by
side, idle until their own queue is fed, and the rounds can be interleaved.
"""

from __future__ import annotations

import os
import time

from celery import Celery

from fastapi_boundary import queued

URL_VARIABLE = "FASTAPI_BOUNDARY_QUEUE_URL"
POOLS = (1, 2, 4)

app = Celery("queue_tasks")
app.conf.update(
    broker_url=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    result_backend=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    # Celery's default prefetch (4 per process): the next tasks wait in the worker, not in Redis
    worker_prefetch_multiplier=4,
    worker_hijack_root_logger=False,
    result_expires=600,
)


def queue_of(processes: int) -> str:
    return f"bench-{processes}"


def _burn(milliseconds: float) -> int:
    """``milliseconds`` of this process's CPU time (not wall time: a process that waits for a
    core does no less work), so that a task is the same amount of work however busy the
    machine is."""
    end = time.process_time() + milliseconds / 1000
    while time.process_time() < end:
        pass
    return os.getpid()


@queued(app, queue=queue_of(1), timeout=600)
def burn_on_1(milliseconds: float) -> int:
    return _burn(milliseconds)


@queued(app, queue=queue_of(2), timeout=600)
def burn_on_2(milliseconds: float) -> int:
    return _burn(milliseconds)


@queued(app, queue=queue_of(4), timeout=600)
def burn_on_4(milliseconds: float) -> int:
    return _burn(milliseconds)


@queued(app, queue=queue_of(2), timeout=600)
def add(a: int, b: int) -> int:
    return a + b


BURN = {1: burn_on_1, 2: burn_on_2, 4: burn_on_4}
