"""run_queued, enqueue and queued_result against a real Redis and real Celery worker processes."""

from __future__ import annotations

import datetime
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from celery.exceptions import TaskRevokedError
from celery.signals import before_task_publish
from pydantic import BaseModel

from fastapi_boundary import (
    OffloadTimeoutError,
    QueueEncodingError,
    enqueue,
    queued_result,
    run_queued,
)
from tests.helpers import line_of, wait_until
from tests.queue import tasks

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.usefixtures("celery_worker")]

TASKS = Path(tasks.__file__)


class Book(BaseModel):
    title: str


def _notes(error: BaseException) -> str:
    if sys.version_info >= (3, 11):
        return "\n".join(getattr(error, "__notes__", []))
    return str(error.__cause__)  # pragma: no cover - version dependent


async def test_a_round_trip_runs_on_a_worker_with_keyword_arguments() -> None:
    assert await run_queued(tasks.add, 2, 3, scale=10) == 50
    assert await run_queued(tasks.worker_pid) != os.getpid()


async def test_enqueue_returns_the_task_id_and_the_result_is_awaited_later() -> None:
    task_id = await enqueue(tasks.add, 1, b=2)
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)
    assert await queued_result(tasks.add, task_id) == 3


async def test_kombu_json_encodes_a_datetime() -> None:
    when = datetime.datetime(2026, 12, 4, 23, 0)
    assert await run_queued(tasks.describe, when) == f"datetime: {when!r}"


async def test_the_workers_exception_arrives_with_its_traceback_and_the_task_id() -> None:
    with pytest.raises(ValueError, match="bad n: 7") as caught:
        await run_queued(tasks.fails, 7)
    task_id: str = caught.value.task_id  # type: ignore[attr-defined]
    notes = _notes(caught.value)
    assert f"Celery task tests.queue.tasks.fails[{task_id}]" in notes
    assert "on queue 'fastapi-boundary-tests'" in notes
    assert f'tasks.py", line {line_of(TASKS, "raise ValueError")}' in notes


async def test_an_argument_json_cannot_encode_is_named_in_the_caller() -> None:
    with pytest.raises(QueueEncodingError) as caught:
        await run_queued(tasks.describe, Book(title="Dune"))
    message = str(caught.value)
    site = f"tests/queue/tasks.py:{line_of(TASKS, 'def describe') - 1}"
    assert message.startswith(
        f"run_queued(describe) ({site}) cannot send its positional argument 'value' to the "
        f"queue: the 'json' serializer cannot encode a tests.queue.test_queue_calls.Book"
    )
    assert "nothing was sent" in message
    assert "model.model_dump(mode='json') for a Pydantic model" in message
    with pytest.raises(QueueEncodingError, match="keyword argument 'b'.* a set"):
        await run_queued(tasks.add, 1, b={2})  # type: ignore[arg-type]


async def test_a_result_that_never_arrives_is_a_timeout_naming_task_queue_and_limit(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    try:
        with pytest.raises(OffloadTimeoutError) as caught:
            await run_queued(tasks.never_answers, str(gate))
    finally:
        gate.write_text("done")  # the worker's task ends too
    message = str(caught.value)
    site = f"tests/queue/tasks.py:{line_of(TASKS, 'def never_answers') - 1}"
    assert re.match(
        rf"run_queued\(never_answers\) \({site}\), task tests\.queue\.tasks\.never_answers"
        rf"\[[0-9a-f-]{{36}}\], ran past the 2 s time limit of queue 'fastapi-boundary-tests' "
        rf"\({re.escape(str(caught.value.declared_at))}\)\. Fix: ",
        message,
    ), message
    assert message.endswith(
        "The task was revoked: a worker that has not started it skips it, one that has runs it "
        "to the end."
    )
    assert caught.value.limit == 2


async def test_cancelling_the_awaiting_task_revokes_the_task(tmp_path: Path) -> None:
    """Both worker processes busy: the cancelled call's task is revoked before it starts."""
    gates = [tmp_path / "gate-1", tmp_path / "gate-2"]
    published: list[str] = []
    lock = threading.Lock()

    def record(sender: Any = None, headers: Any = None, **_: Any) -> None:
        if sender == "tests.queue.tasks.add":
            with lock:
                published.append(headers["id"])

    before_task_publish.connect(record, weak=False)
    try:
        blockers = [await enqueue(tasks.wait_for_file, str(gate)) for gate in gates]
        await wait_until(
            lambda: all(Path(f"{gate}.started").exists() for gate in gates), "both workers busy"
        )
        async with anyio.create_task_group() as group:
            group.start_soon(run_queued, tasks.add, 1, 2)
            await wait_until(lambda: bool(published), "the task to be published")
            group.cancel_scope.cancel()
    finally:
        before_task_publish.disconnect(record)
        for gate in gates:
            gate.write_text("open")
    for blocker in blockers:
        assert await queued_result(tasks.wait_for_file, blocker) == "open"
    with pytest.raises(TaskRevokedError):
        await queued_result(tasks.add, published[0])
