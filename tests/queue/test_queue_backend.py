"""CeleryBackend: run_cpu's call site unchanged, the work on real Celery workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    ProcessTargetError,
    QueueEncodingError,
    install,
    run_cpu,
)
from tests.helpers import line_of
from tests.queue import tasks

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("celery_worker")]


def _is_celery_worker(pid: int) -> bool:
    return b"celery" in Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.mark.anyio
async def test_the_backend_runs_a_cpu_bound_function_on_a_worker() -> None:
    pid, total = await tasks.backend.run(tasks.checksum, "ab", rounds=2)
    assert total == 2 * (ord("a") + ord("b"))
    assert pid != os.getpid() and _is_celery_worker(pid)


@pytest.mark.anyio
async def test_what_the_serializer_or_a_worker_cannot_take_fails_in_the_caller() -> None:
    with pytest.raises(QueueEncodingError) as caught:
        await tasks.backend.run(tasks.checksum, {"a"})  # type: ignore[arg-type]
    site = f"tests/queue/tasks.py:{line_of(Path(tasks.__file__), 'def checksum') - 1}"
    assert str(caught.value).startswith(
        f"run_cpu(checksum) ({site}) cannot send its positional argument 'data' to the queue: "
        f"the 'json' serializer cannot encode a set"
    )
    with pytest.raises(ProcessTargetError, match="it is a lambda"):
        await tasks.backend.run(lambda: 1)


def test_installed_as_the_apps_processes_run_cpu_goes_to_the_queue() -> None:
    """The route's ``await run_cpu(checksum, ...)`` is the same line as with a local pool."""
    app = FastAPI()

    @app.get("/checksum")
    async def checksum(data: str) -> list[int]:
        pid, total = await run_cpu(tasks.checksum, data)
        return [pid, total]

    install(app, processes=tasks.backend)
    with TestClient(app) as client:
        pid, total = client.get("/checksum", params={"data": "abc"}).json()
    assert total == sum(b"abc")
    assert pid != os.getpid() and _is_celery_worker(pid)
