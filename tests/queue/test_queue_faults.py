"""Faults with real parts: a worker process killed mid-task, a broker that goes away and comes back.

(A result that never arrives is `test_queue_calls`' timeout test.)
"""

from __future__ import annotations

import gc
import os
import re
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from celery import Celery

from fastapi_boundary import QueueUnavailableError, enqueue, queued, run_queued
from tests.helpers import WAIT, wait_until
from tests.queue import fault_tasks, tasks
from tests.queue.servers import CeleryWorker, RedisServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.mark.usefixtures("celery_worker")
async def test_a_worker_killed_mid_task_runs_it_again_with_acks_late(tmp_path: Path) -> None:
    results: list[str] = []

    async def call() -> None:
        results.append(await run_queued(tasks.crash_once, str(tmp_path)))

    first = tmp_path / "first-run"
    async with anyio.create_task_group() as group:
        group.start_soon(call)
        await wait_until(lambda: first.exists() and first.read_text() != "", "the first run")
        killed = int(first.read_text())
        os.kill(killed, signal.SIGKILL)
    assert results == [results[0]]
    assert results[0].endswith(f"after {killed} was killed")
    assert f"ran again in {killed} " not in results[0]


@pytest.fixture
def fault_worker(own_redis: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    fault_tasks.app.conf.update(broker_url=own_redis.url, result_backend=own_redis.url)
    worker = CeleryWorker(
        "tests.queue.fault_tasks",
        own_redis.url,
        tmp_path / "worker.log",
        concurrency=1,
        queue="fastapi-boundary-faults",
        name="faults",
    )
    try:
        yield own_redis
    finally:
        worker.stop()
        anyio.run(fault_tasks.backend.shutdown)
        # kombu drops the connections the restart broke without closing their sockets (its
        # "collect" path does no I/O on a dead connection); they are garbage in a cycle, freed
        # here rather than at some later test's collection, where the warning would point at it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


async def test_a_broker_that_goes_away_fails_calls_fast_and_they_recover(
    fault_worker: RedisServer,
) -> None:
    assert await run_queued(fault_tasks.worker_pid) != os.getpid()
    fault_worker.stop()
    with pytest.raises(QueueUnavailableError) as caught:
        await run_queued(fault_tasks.worker_pid)
    message = str(caught.value)
    assert message.startswith("run_queued(worker_pid) (tests/queue/fault_tasks.py:")
    assert (
        f"could not reach the queue's broker at redis://127.0.0.1:{fault_worker.port}/0 ("
        in message
    )
    assert "the task was not sent. Fix: start the broker or correct its URL (broker_url" in message
    assert message.endswith("nothing needs restarting, the next call connects again.")
    with pytest.raises(QueueUnavailableError, match=r"^enqueue\(worker_pid\) \(tests/queue/"):
        await enqueue(fault_tasks.worker_pid)

    fault_worker.start()  # the same port: the app and the worker reconnect by themselves
    answers: list[int] = []
    with anyio.fail_after(WAIT):
        while not answers:
            try:
                answers.append(await run_queued(fault_tasks.worker_pid))
            except QueueUnavailableError:
                await anyio.sleep(0.05)  # not a guess: the next attempt, until one gets through
    assert answers[0] != os.getpid()


dead_app = Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0")
dead_app.conf.update(
    result_backend=dead_app.conf.broker_url,
    result_backend_transport_options={"retry_policy": {"max_retries": 2, "interval_max": 0.2}},
)


@queued(dead_app)
def never_sent() -> None:
    """A task whose broker and result backend never answer."""


async def test_a_broker_that_never_answered_fails_the_first_call_with_a_clear_error() -> None:
    with pytest.raises(QueueUnavailableError) as caught:
        await run_queued(never_sent)
    message = str(caught.value)
    assert message.startswith("run_queued(never_sent) (tests/queue/test_queue_faults.py:")
    # which of the two is tried first depends on the Celery release: both are this URL
    assert re.search(
        rf"could not reach the queue's (broker|result backend) at "
        rf"{re.escape(dead_app.conf.broker_url)} \(",
        message,
    ), message
    assert "the task was not sent" in message
