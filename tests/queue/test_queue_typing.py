"""Static types of the queue's API, checked by mypy (``assert_type``; see tests/test_typing.py).

Lines under ``TYPE_CHECKING`` carry ``type: ignore`` comments that mypy reports
(``warn_unused_ignores``) if they stop being needed: a wrong argument is caught.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing_extensions import assert_type

from fastapi_boundary import CeleryBackend, enqueue, queued_result, run_cpu, run_queued
from fastapi_boundary._offload.cpu_backend import CpuBackend
from tests.queue import tasks


def test_queued_returns_the_function_itself() -> None:
    assert tasks.add.__name__ == "add"
    assert_type(tasks.add(1, 2, scale=3), int)
    assert tasks.add(1, 2, scale=3) == 9  # called from sync code: inline


async def typed_calls() -> None:
    """Never run: mypy checks it (ParamSpec through run_queued, enqueue and queued_result)."""
    assert_type(await run_queued(tasks.add, 1, 2, scale=3), int)
    task_id = assert_type(await enqueue(tasks.add, 1, b=2), str)
    assert_type(await queued_result(tasks.add, task_id), int)
    assert_type(await tasks.backend.run(tasks.checksum, "ab", rounds=2), tuple[int, int])
    assert_type(await run_cpu(tasks.checksum, "ab"), tuple[int, int])
    backend: CpuBackend = tasks.backend  # a CeleryBackend is a CpuBackend
    assert isinstance(backend, CeleryBackend)
    if TYPE_CHECKING:
        await run_queued(tasks.add, "one", 2)  # type: ignore[arg-type]
        await run_queued(tasks.add, 1, 2, scale="x")  # type: ignore[arg-type]
        await enqueue(tasks.add, 1)  # type: ignore[call-arg]
        await tasks.backend.run(tasks.checksum, 1)  # type: ignore[arg-type]


def test_the_backend_is_a_cpu_backend() -> None:
    assert isinstance(tasks.backend, CpuBackend)
