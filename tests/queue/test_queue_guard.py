"""The guard against the real Celery API on a real Redis: blocking calls caught, run_queued not."""

from __future__ import annotations

from typing import Any

import pytest
from celery.result import AsyncResult

from fastapi_boundary import BlockingCallError, enqueue, run_queued
from fastapi_boundary._runtime.guard import guarded
from tests.queue import tasks

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.usefixtures("celery_worker")]

ADD = "tests.queue.tasks.add"


async def test_task_delay_in_async_def_is_caught_with_the_fix() -> None:
    task = tasks.app.tasks[ADD]
    with guarded("strict"), pytest.raises(BlockingCallError) as caught:
        task.delay(1, 2)
    message = str(caught.value)
    assert message.startswith("blocking call celery.app.task.Task.delay (net) on the event loop")
    assert "test_queue_guard.py:" in message
    assert "await run_queued(func, ...) on a @queued(celery_app) function" in message


async def test_result_get_in_async_def_is_caught_with_the_fix() -> None:
    task_id = await enqueue(tasks.add, 1, 2)
    result: Any = AsyncResult(task_id, app=tasks.app)
    with guarded("strict"), pytest.raises(BlockingCallError) as caught:
        result.get(timeout=60)
    message = str(caught.value)
    assert message.startswith("blocking call celery.result.AsyncResult.get (net) on the event")
    assert "await queued_result(func, task_id) for a task sent earlier" in message


async def test_run_queued_and_enqueue_report_nothing() -> None:
    with guarded("warn") as recorder:
        recorder.clear()
        assert await run_queued(tasks.add, 2, 2) == 4
        await enqueue(tasks.add, 3, 3)
        assert recorder.names() == []
