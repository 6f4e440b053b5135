"""The seam between run_cpu and where it runs: `use_cpu_backend` and ``install(processes=...)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import install
from fastapi_boundary._common.errors import ProcessPoolError
from fastapi_boundary._offload import cpu_backend
from fastapi_boundary._offload.cpu_backend import (
    CpuBackend,
    installed_cpu_backend,
    use_cpu_backend,
)
from fastapi_boundary._offload.process_pool import default_process_pool, run_cpu
from tests.samples import process_targets as targets

P = ParamSpec("P")
T = TypeVar("T")


class InlineBackend:
    """Runs calls in this process and records them: a stand-in for a queue."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.shutdowns = 0

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        self.calls.append((func.__name__, args, dict(kwargs)))
        return func(*args, **kwargs)

    async def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.fixture(autouse=True)
def no_backend_left() -> Any:
    before = cpu_backend.installed
    yield
    cpu_backend.installed = before


def test_the_default_backend_is_the_default_pool() -> None:
    assert installed_cpu_backend() is default_process_pool()
    assert isinstance(default_process_pool(), CpuBackend)


@pytest.mark.anyio
async def test_run_cpu_dispatches_through_the_installed_backend() -> None:
    backend = InlineBackend()
    assert use_cpu_backend(backend) is None
    assert installed_cpu_backend() is backend
    pid, value = await run_cpu(targets.scaled_sum, 1, 2, scale=3)
    assert (pid, value) == (os.getpid(), 9)  # ran where the backend put it: inline
    assert backend.calls == [("scaled_sum", (1, 2), {"scale": 3})]
    assert use_cpu_backend(None) is backend
    assert installed_cpu_backend() is default_process_pool()


@pytest.mark.parametrize("given", [object(), InlineBackend, "celery", 2.5])
def test_anything_else_is_refused_with_what_fits(given: object) -> None:
    with pytest.raises(ProcessPoolError) as caught:
        install(FastAPI(), processes=given)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(
        "install(processes=...) takes a number of worker processes or a CpuBackend instance"
    )
    assert "async run(func, /, *args, **kwargs) and async shutdown()" in message
    assert f"got {type(given).__name__} " in message
    assert "Fix: pass processes=4, a ProcessPool(4, timeout=...)" in message
    with pytest.raises(ProcessPoolError, match=r"^use_cpu_backend\(\.\.\.\) takes"):
        use_cpu_backend(given)  # type: ignore[arg-type]


def test_install_uses_a_backend_for_the_apps_life() -> None:
    backend = InlineBackend()
    app = FastAPI()

    @app.get("/cpu")
    async def cpu() -> dict[str, int]:
        _, total = await run_cpu(targets.scaled_sum, 2, 3, scale=2)
        return {"total": total}

    install(app, processes=backend)
    assert installed_cpu_backend() is not backend  # only once the app starts
    with TestClient(app) as client:
        assert installed_cpu_backend() is backend
        assert client.get("/cpu").json() == {"total": 10}
    assert backend.calls == [("scaled_sum", (2, 3), {"scale": 2})]
    assert backend.shutdowns == 1
    assert installed_cpu_backend() is default_process_pool()  # reset when the app stopped
