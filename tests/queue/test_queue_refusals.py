"""What ``@queued`` and the queue offloads refuse, through the public API, before any broker."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from celery import Celery

from fastapi_boundary import OffloadError, QueueTargetError, enqueue, queued, run_queued
from tests.helpers import line_of

HERE = "tests/queue/test_queue_refusals.py"
app = Celery("refusals", broker="redis://127.0.0.1:1/0", backend="redis://127.0.0.1:1/0")


def _line(needle: str) -> int:
    return line_of(Path(__file__), needle)


def test_an_async_def_cannot_be_a_queued_task() -> None:
    with pytest.raises(QueueTargetError) as caught:

        @queued(app)
        async def fetch(url: str) -> bytes:  # the body would never run on a worker
            return b""

    assert str(caught.value) == (
        f"@queued cannot make fetch "
        f"({HERE}:{_line('        @queued(app)')}) a queued task: it is an async def; a Celery "
        f"worker calls a task's function and never awaits it, so it would only create a "
        f"coroutine and the body would never run. Fix: make it a def: await the async I/O in "
        f"the caller and pass its results as arguments."
    )


def test_an_async_generator_is_refused_too() -> None:
    with pytest.raises(QueueTargetError, match="it is an async generator; a Celery worker"):

        @queued(app)
        async def rows() -> AsyncIterator[int]:
            yield 1


def test_a_nested_function_or_closure_cannot_be_a_queued_task() -> None:
    scale = 2
    with pytest.raises(QueueTargetError) as caught:

        @queued(app)
        def scaled(n: int) -> int:
            return n * scale

    message = str(caught.value)
    assert "a queued task: it is defined inside test_a_nested_function_or_closure_cannot_be" in (
        message
    )
    assert "Fix: move it to module level and pass what it uses as arguments" in message


def test_a_lambda_a_partial_a_method_and_a_generator_are_refused() -> None:
    with pytest.raises(QueueTargetError, match="it is a lambda, which has no name a worker"):
        queued(app)(lambda n: n)
    with pytest.raises(QueueTargetError, match="it is a functools.partial"):
        queued(app)(functools.partial(int, base=2))

    class Repo:
        def get(self, n: int) -> int:
            return n

    with pytest.raises(QueueTargetError, match="it is a method, whose instance or class"):
        queued(app)(Repo().get)

    with pytest.raises(QueueTargetError, match="it is a generator function; the generator"):

        @queued(app)
        def numbers() -> Iterator[int]:
            yield 1


def test_queued_without_the_app_says_how_to_write_it() -> None:
    def resize(n: int) -> int:
        return n

    with pytest.raises(QueueTargetError) as caught:
        queued(resize)  # type: ignore[arg-type]
    assert "@queued takes the Celery app as its first argument; got " in str(caught.value)
    assert "Fix: write @queued(celery_app) (with parentheses) above the function." in str(
        caught.value
    )
    with pytest.raises(QueueTargetError, match=r"timeout=...\) takes seconds > 0"):
        queued(app, timeout=0)


def square(n: int) -> int:
    return n * n


@pytest.mark.anyio
async def test_an_unqueued_function_is_refused_with_the_fix() -> None:
    with pytest.raises(OffloadError) as caught:
        await run_queued(square, 3)
    assert str(caught.value) == (
        f"run_queued() was given square ({HERE}:{_line('def square')}), which is not a queued "
        f"task. Fix: decorate it with @queued(celery_app) where it is defined (or, for local "
        f"worker processes, @cpu_bound and await run_cpu(...))."
    )
    with pytest.raises(OffloadError, match=r"enqueue\(\) was given square"):
        await enqueue(square, 3)
