"""A stall report names the innermost frame of the user's code and the route's endpoint.

The loop is held for 200 ms (against a 50 ms threshold) by a helper of the app that
waits inside the standard library (``threading.Event.wait``: Python frames of
``threading`` are innermost): the report must name the helper's line and name, never
``threading.py``, and the endpoint the route runs.  Nothing asserts on speed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import install
from fastapi_boundary._runtime.monitor import Metric, MonitorConfig
from tests.helpers import WAIT, line_of

HERE = __name__.rpartition(".")[2] + ".py"


def hold_the_loop() -> None:
    threading.Event().wait(0.2)  # blocks: innermost frames are threading.py's


def wait_for(predicate: Callable[[], bool]) -> None:
    """Poll until the sentinel had its turn (it runs on the app's loop, not ours)."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "the monitor did not report in time"
        time.sleep(0.01)


def test_a_stall_names_the_innermost_user_frame_and_the_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fastapi_boundary")
    metrics: list[Metric] = []
    app = FastAPI()

    @app.get("/held/{item_id}")
    async def held(item_id: int) -> int:
        hold_the_loop()
        return item_id

    config = MonitorConfig(
        lag_interval=0.01,
        lag_threshold=0.05,
        metrics=metrics.append,
        opentelemetry=False,
        endpoints=False,
    )
    install(app, monitor=config, check="off")  # blocks on purpose: R5 would refuse it

    def records() -> list[Any]:
        return [
            r
            for r in list(caplog.records)
            if getattr(r, "boundary_event", None) == "stall"
            and getattr(r, "boundary_route", None) == "GET /held/{item_id}"
        ]

    with TestClient(app) as client:
        assert client.get("/held/4").json() == 4
        wait_for(lambda: bool(records()))
    record = records()[0]
    helper = f"{HERE}:{line_of(hold_the_loop, 'wait(0.2)')}"
    endpoint = f"{HERE}:{line_of(held, '@app.get')}"
    assert record.boundary_site.endswith(helper)
    assert record.boundary_function == "hold_the_loop"
    assert record.boundary_endpoint.startswith("held, ")
    assert record.boundary_endpoint.endswith(endpoint)
    message = record.getMessage()
    assert "while serving GET /held/{item_id} (endpoint " in message
    assert f"{endpoint}) at " in message
    assert f"{helper} in hold_the_loop: every request on this loop waited" in message
    assert "threading.py" not in message
    stall = next(
        m
        for m in metrics
        if m.name == "boundary.loop.stall" and m.attributes.get("route") == "GET /held/{item_id}"
    )
    assert stall.attributes["site"].endswith(helper)
