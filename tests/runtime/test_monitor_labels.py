"""The monitor's route labels: bounded by the library, not by what a client sends.

A method outside the standard set is one ``OTHER`` label; a route of a mounted
app is labelled with the mount's path and its own template, never with another
top-level route.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import AsyncRepository, install
from fastapi_boundary._runtime.monitor import Metric, MonitorConfig
from fastapi_boundary._runtime.request_scope import STANDARD_METHODS, route_label
from tests.helpers import WAIT


class SlowRepository(AsyncRepository):
    async def get(self, item_id: int) -> int:
        time.sleep(0.15)  # fake async: a slow step
        return item_id


def wait_for(predicate: Callable[[], bool]) -> None:
    """The sentinel runs on the app's loop, in another thread: poll for its report."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the monitor did not report in time")
        time.sleep(0.01)


def monitored(app: FastAPI, metrics: list[Metric]) -> FastAPI:
    config = MonitorConfig(
        sample_rate=1.0,
        step_threshold=0.05,
        lag_interval=0.01,
        lag_threshold=0.05,
        metrics=metrics.append,
        opentelemetry=False,
    )
    # blocks on purpose: the audit (R5) would refuse to start it
    return install(app, monitor=config, check="off")


def routes_of(metrics: list[Metric], name: str) -> set[str]:
    return {m.attributes.get("route", "") for m in list(metrics) if m.name == name}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="fastapi_boundary")
    return caplog


# --- methods --------------------------------------------------------------------------------


def test_standard_methods_are_kept_and_any_other_token_is_other() -> None:
    scope: dict[str, Any] = {"type": "http", "route": None, "root_path": ""}
    for method in sorted(STANDARD_METHODS):
        assert route_label({**scope, "method": method}) == f"{method} <unmatched route>"
    for other in ("PURGE", "get", "X" * 500, "", None):
        assert route_label({**scope, "method": other}) == "OTHER <unmatched route>"
    assert route_label({"type": "websocket", "route": None}) == "WEBSOCKET <unmatched route>"


def test_a_client_chosen_method_is_one_other_label_in_logs_and_metrics(
    logs: pytest.LogCaptureFixture,
) -> None:
    metrics: list[Metric] = []
    app = FastAPI()
    tokens = [f"PURGE{index}" for index in range(3)]

    @app.api_route("/cache/{key}", methods=tokens)
    async def purge(key: str) -> str:
        time.sleep(0.2)  # blocks the loop: a stall
        await SlowRepository().get(1)  # and a slow step
        return key

    monitored(app, metrics)
    with TestClient(app) as client:
        for token in tokens:
            assert client.request(token, "/cache/k").json() == "k"
        wait_for(lambda: "OTHER /cache/{key}" in routes_of(metrics, "boundary.loop.stall"))
    labelled = {m.attributes.get("route") for m in metrics if "route" in m.attributes}
    assert labelled == {"OTHER /cache/{key}"}
    routes = {getattr(r, "boundary_route", None) for r in logs.records} - {None}
    assert routes == {"OTHER /cache/{key}"}
    assert not any("PURGE" in r.getMessage() for r in logs.records)


# --- mounted apps --------------------------------------------------------------------------


@pytest.mark.parametrize("mount", ["/sub", "/tenants/{tenant}"])
def test_a_stall_in_a_mounted_app_is_labelled_with_the_mount_and_its_route(mount: str) -> None:
    metrics: list[Metric] = []
    app = FastAPI()
    sub = FastAPI()

    @app.get("/items/{item_id}")
    async def top_level(item_id: int) -> int:  # the same template, at the top level
        return item_id

    @sub.get("/items/{item_id}")
    async def mounted(item_id: int) -> int:
        time.sleep(0.2)  # blocks the loop: a stall
        return await SlowRepository().get(item_id)  # and a slow step

    app.mount(mount, sub)
    monitored(app, metrics)
    path = mount.replace("{tenant}", "acme")
    expected = f"GET {mount}/items/{{item_id}}"
    with TestClient(app) as client:
        assert client.get(f"{path}/items/4").json() == 4
        wait_for(lambda: expected in routes_of(metrics, "boundary.loop.stall"))
    assert "GET /items/{item_id}" not in routes_of(metrics, "boundary.loop.stall")
    assert routes_of(metrics, "boundary.step.blocking") == {expected}


def test_a_stall_in_an_included_router_is_labelled_with_the_full_template() -> None:
    """FastAPI >= 0.165 keeps ``scope["route"]`` the router's own route (``/items/{item_id}``)
    and serves it through an effective context with the prefixes: the label has them."""
    metrics: list[Metric] = []
    app = FastAPI()
    inner = APIRouter()

    @app.get("/items/{item_id}")
    async def top_level(item_id: int) -> int:  # the same template, at the top level
        return item_id

    @inner.get("/items/{item_id}")
    async def included(item_id: int) -> int:
        time.sleep(0.2)  # blocks the loop: a stall
        return await SlowRepository().get(item_id)  # and a slow step

    outer = APIRouter()
    outer.include_router(inner, prefix="/shop")
    app.include_router(outer, prefix="/v1")
    monitored(app, metrics)
    expected = "GET /v1/shop/items/{item_id}"
    with TestClient(app) as client:
        assert client.get("/v1/shop/items/4").json() == 4
        wait_for(lambda: expected in routes_of(metrics, "boundary.loop.stall"))
    assert "GET /items/{item_id}" not in routes_of(metrics, "boundary.loop.stall")
    assert routes_of(metrics, "boundary.step.blocking") == {expected}
