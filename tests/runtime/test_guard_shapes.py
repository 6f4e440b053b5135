"""The guard on issue 11's shapes of fake async (``tests/samples/fake_async``), at run time.

Each wrong function is served through ``TestClient`` under the guard in warn mode and
reported, naming the fake-async function; each correct twin (an ``AsyncSession``, an
awaited async client, an offload, a ``def`` task) is served and reported nothing.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary._runtime.detection import Detection
from fastapi_boundary._runtime.guard import guarded
from tests.samples.fake_async import app_wide, controllers, engines, helpers, tasks, unannotated

SAMPLES = "tests.samples.fake_async"

#: (app, method, path, the fake-async function reported, or None for a correct twin)
CASES: list[tuple[FastAPI, str, str, str | None]] = [
    (unannotated.app, "POST", "/unannotated", "unannotated.unannotated"),
    (unannotated.app, "GET", "/plain", "unannotated.plain_provider"),
    (unannotated.app, "POST", "/async", None),
    (helpers.app, "POST", "/via_helper", "helpers.via_helper"),
    (helpers.app, "POST", "/via_render", "helpers.via_render"),
    (helpers.app, "POST", "/two_deep", "helpers.two_deep"),
    (helpers.app, "POST", "/offloaded", None),
    (helpers.app, "POST", "/to_thread", None),
    (helpers.app, "POST", "/asyncio_thread", None),
    (helpers.app, "POST", "/executor", None),
    (helpers.app, "POST", "/threadpool", None),
    (helpers.app, "POST", "/in_a_lambda", None),
    (helpers.app, "POST", "/nested_def", None),
    (controllers.app, "GET", "/controller", "controllers.Controller.list"),
    (controllers.app, "GET", "/bound", "controllers.BoundController.count"),
    (controllers.app, "GET", "/names", "controllers.names"),
    (controllers.app, "GET", "/async-controller", None),
    (controllers.app, "GET", "/async-names", None),
    (engines.app, "GET", "/inspector", "engines.inspector"),
    (engines.app, "GET", "/module_engine", "engines.module_engine"),
    (engines.app, "GET", "/async_module_engine", None),
    (engines.app, "GET", "/async_inspector", None),
    (tasks.app, "POST", "/register?email=a@example.com", "tasks.notify"),
    (tasks.app, "POST", "/hash_password?password=x", "tasks.hash_password"),
    (tasks.app, "POST", "/register_sync_task?email=a@example.com", None),
    (tasks.app, "POST", "/register_offloaded?email=a@example.com", None),
    (tasks.app, "POST", "/hash_offloaded?password=x", None),
    (app_wide.right, "POST", "/state", None),
]


@pytest.fixture
def quiet() -> Iterator[None]:
    logger = logging.getLogger("fastapi_boundary.guard")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # warn mode logs each cause: not this test's output
    try:
        yield
    finally:
        logger.setLevel(level)


# engines.inspector makes an engine per call and never disposes of it: its connection is
# collected (and warns) here, under this test's filters, not in a later test
@pytest.mark.filterwarnings("ignore:unclosed database:ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("app", "method", "path", "function"),
    CASES,
    ids=[f"{method} {path.partition('?')[0]}" for _, method, path, _ in CASES],
)
def test_each_shape_is_caught_and_each_twin_is_not(
    quiet: None, app: FastAPI, method: str, path: str, function: str | None
) -> None:
    with (
        guarded("warn") as recorder,
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        recorder.clear()  # start-up: not this case's
        client.request(method, path)
        detections = list(recorder.detections)
    gc.collect()
    if function is None:
        assert [(d.blocking, str(d.site)) for d in detections] == []
    else:
        assert detections, f"{method} {path}: nothing reported"
        assert f"{SAMPLES}.{function}" in {d.function for d in detections}


def test_app_wide_code_is_caught_at_start_up_and_per_request(quiet: None) -> None:
    """Lifespan, middleware (``BaseHTTPMiddleware`` and pure ASGI), ``request.state``."""

    def names(found: list[Detection]) -> set[Any]:
        return {(d.blocking, d.function) for d in found}

    with (
        guarded("warn") as recorder,
        TestClient(app_wide.wrong, raise_server_exceptions=False) as client,
    ):
        started = names(recorder.detections)
        recorder.clear()
        client.post("/state")
        served = names(recorder.detections)
    lifespan = f"{SAMPLES}.app_wide.lifespan"
    assert any(function == lifespan for _, function in started)
    functions = {function for _, function in served}
    assert f"{SAMPLES}.app_wide.AuditMiddleware.dispatch" in functions
    assert f"{SAMPLES}.app_wide.ResolveMiddleware.__call__" in functions
    assert f"{SAMPLES}.app_wide.state" in functions  # request.state.db.commit()
