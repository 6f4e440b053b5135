"""The production monitor on real FastAPI apps: stalls, slow steps, queueing, privacy, safety.

Stalls last 150 ms or more against thresholds of 30-50 ms; nothing asserts on speed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from fastapi_boundary import (
    AsyncRepository,
    BoundaryError,
    Limiter,
    SyncRepository,
    configure,
    install,
)
from fastapi_boundary._common.errors import BlockingCallError
from fastapi_boundary._runtime import step_timing
from fastapi_boundary._runtime.monitor import Metric, MonitorConfig
from fastapi_boundary.middleware import BoundaryMonitorMiddleware
from tests.helpers import WAIT, line_of

HERE = __name__.rpartition(".")[2] + ".py"
queue_limiter = Limiter("monitor-test-queue", size=1)


class SlowRepository(AsyncRepository):
    async def get(self, item_id: int) -> int:
        time.sleep(0.15)  # fake async
        return item_id


class Totals(SyncRepository):
    def get(self, item_id: int) -> int:
        return item_id


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll until the sentinel has had its turn (it runs on the app's loop, not ours)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the monitor did not report in time")
        time.sleep(0.01)


def config(metrics: list[Metric], **overrides: Any) -> MonitorConfig:
    options: dict[str, Any] = {
        "sample_rate": 1.0,
        "step_threshold": 0.05,
        "lag_interval": 0.01,
        "lag_threshold": 0.05,
        "metrics": metrics.append,
        "opentelemetry": False,
    }
    options.update(overrides)
    return MonitorConfig(**options)


def named(metrics: list[Metric], name: str) -> list[Metric]:
    return [metric for metric in list(metrics) if metric.name == name]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="fastapi_boundary")
    return caplog


@pytest.fixture(autouse=True)
def _monitor_stopped() -> Iterator[None]:
    yield
    assert not step_timing.active, "the monitor left step timing on"
    names = {thread.name for thread in threading.enumerate()}
    assert "fastapi-boundary loop watchdog" not in names


# --- what it notices ----------------------------------------------------------------------


def blocking_app(metrics: list[Metric], **overrides: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/slow/{item_id}")
    async def slow(item_id: int) -> int:
        time.sleep(0.2)  # blocks the loop: the sentinel wakes late
        return item_id

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config(metrics, **overrides), check="off")
    return app


@pytest.mark.parametrize("backend", ["asyncio", "trio", "uvloop"])
def test_sentinel_notices_a_stall_and_names_route_and_line(
    backend: Literal["asyncio", "trio", "uvloop"], logs: pytest.LogCaptureFixture
) -> None:
    """On every loop, uvloop included (where aiodebug and asyncio debug mode are blind)."""
    options: dict[str, Any] = {}
    if backend == "uvloop":
        pytest.importorskip("uvloop")
        backend, options = "asyncio", {"use_uvloop": True}
    metrics: list[Metric] = []
    app = blocking_app(metrics, endpoints=False)

    def stalls() -> list[Metric]:  # a loaded machine may add stalls of its own
        found = named(metrics, "boundary.loop.stall")
        return [m for m in found if m.attributes.get("route") == "GET /slow/{item_id}"]

    with TestClient(app, backend=backend, backend_options=options) as client:
        assert client.get("/slow/3", params={"q": "private"}).json() == 3
        wait_for(lambda: bool(stalls()))
    stall = stalls()[0]
    assert stall.value >= 0.1
    assert stall.unit == "s"
    endpoint = app.routes[-1].endpoint  # type: ignore[attr-defined]
    assert stall.attributes == {
        "route": "GET /slow/{item_id}",
        "site": f"{stall.attributes['site'].rpartition(':')[0]}:{line_of(endpoint, 'sleep')}",
    }
    assert stall.attributes["site"].rpartition(":")[0].endswith(HERE)
    assert named(metrics, "boundary.loop.lag")
    logged: Any = [
        r
        for r in logs.records
        if getattr(r, "boundary_event", None) == "stall"
        and getattr(r, "boundary_route", None) == "GET /slow/{item_id}"
    ]
    assert logged
    assert "event loop stalled" in logged[0].getMessage()
    assert "private" not in logged[0].getMessage()


def test_sampled_step_timing_names_the_layer(logs: pytest.LogCaptureFixture) -> None:
    metrics: list[Metric] = []
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await SlowRepository().get(item_id)

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config(metrics, lag_threshold=10.0), check="off")
    with TestClient(app) as client:
        assert client.get("/items/1").json() == 1
        assert client.get("/items/2").json() == 2
    steps = [
        m
        for m in named(metrics, "boundary.step.blocking")
        if m.attributes.get("layer") == "SlowRepository.get"
    ]
    assert len(steps) == 2  # every slow step is counted ...
    assert steps[0].attributes["layer"] == "SlowRepository.get"
    assert steps[0].attributes["route"] == "GET /items/{item_id}"
    assert steps[0].attributes["site"].endswith(f":{line_of(SlowRepository.get, 'sleep')}")
    logged = [
        r
        for r in logs.records
        if getattr(r, "boundary_event", None) == "step"
        and getattr(r, "boundary_layer", None) == "SlowRepository.get"
    ]
    assert len(logged) == 1  # ... and logged once per log_every
    record: Any = logged[0]
    assert record.name == "fastapi_boundary.monitor"
    assert record.boundary_layer == "SlowRepository.get"
    assert record.boundary_layer_mode == "async"
    assert record.boundary_duration_ms >= 100


def test_a_sync_layer_called_on_the_loop_is_counted(logs: pytest.LogCaptureFixture) -> None:
    metrics: list[Metric] = []
    app = FastAPI()

    @app.get("/totals/{item_id}")
    async def totals(item_id: int) -> int:
        return Totals().get(item_id)  # a sync layer on the loop

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config(metrics, lag_threshold=10.0), check="off")
    with TestClient(app) as client:
        assert client.get("/totals/3").json() == 3
    calls = named(metrics, "boundary.call.blocking")
    assert len(calls) == 1
    assert calls[0].value == 1
    assert calls[0].attributes["layer"] == "Totals.get"
    assert calls[0].attributes["route"] == "GET /totals/{item_id}"
    logged: Any = [r for r in logs.records if getattr(r, "boundary_event", None) == "call"]
    assert logged[0].boundary_layer_mode == "sync"
    assert "Totals.get (marked blocking) ran on the event loop thread" in logged[0].getMessage()


def test_metrics_callback_receives_limiter_queueing(logs: pytest.LogCaptureFixture) -> None:
    metrics: list[Metric] = []
    app = FastAPI()

    @app.get("/burst")
    async def burst() -> str:
        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(queue_limiter.run, time.sleep, 0.1)
        return "done"

    install(app, monitor=config(metrics, lag_threshold=10.0))
    with TestClient(app) as client:
        assert client.get("/burst").json() == "done"
        wait_for(lambda: bool(named(metrics, "boundary.offload.total")))
    waiting = [
        m
        for m in named(metrics, "boundary.offload.waiting")
        if m.attributes == {"limiter": "monitor-test-queue"}
    ]
    assert max(m.value for m in waiting) >= 1
    totals = {m.attributes["limiter"]: m.value for m in named(metrics, "boundary.offload.total")}
    assert totals["monitor-test-queue"] == 1
    assert "default" in totals
    queued = [r for r in logs.records if getattr(r, "boundary_event", None) == "queue"]
    assert queued and queued[0].boundary_limiter == "monitor-test-queue"  # type: ignore[attr-defined]


# --- what it must never do --------------------------------------------------------------


def test_logs_and_metrics_carry_the_route_template_only(
    logs: pytest.LogCaptureFixture,
) -> None:
    metrics: list[Metric] = []
    app = FastAPI()

    @app.post("/users/{user_id}")
    async def update(user_id: int, request: Request) -> int:
        await request.body()
        return await SlowRepository().get(user_id)

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config(metrics), check="off")
    with TestClient(app) as client:
        response = client.post(
            "/users/987654?token=querysecret",
            content=b"bodysecret",
            headers={"Authorization": "Bearer headersecret"},
        )
        assert response.json() == 987654
        wait_for(lambda: bool(named(metrics, "boundary.loop.stall")))
    texts = [r.getMessage() + repr(vars(r)) for r in logs.records]
    texts += [repr(m) for m in metrics]
    assert any("POST /users/{user_id}" in text for text in texts)
    for secret in ("querysecret", "bodysecret", "headersecret", "987654"):
        assert not any(secret in text for text in texts), secret


def test_a_failing_metrics_callback_never_breaks_a_request(
    logs: pytest.LogCaptureFixture,
) -> None:
    def broken(metric: Metric) -> None:
        raise RuntimeError("exporter down")

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await SlowRepository().get(item_id)

    # blocks on purpose: the audit (R5) would refuse to start it
    install(
        app,
        monitor=MonitorConfig(sample_rate=1.0, step_threshold=0.05, metrics=broken),
        check="off",
    )
    with TestClient(app) as client:
        assert client.get("/items/5").json() == 5
        assert client.get("/items/6").json() == 6
    failures = [r for r in logs.records if "metrics callback failed" in r.getMessage()]
    assert len(failures) == 1  # logged once, with the traceback
    assert failures[0].exc_info is not None


def test_a_failing_probe_never_takes_the_app_down(
    logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> list[Any]:
        raise ValueError("statistics unavailable")

    monkeypatch.setattr("fastapi_boundary._runtime.monitor.limiter_statistics", broken)
    metrics: list[Metric] = []
    app = blocking_app(metrics)
    with TestClient(app) as client:
        wait_for(lambda: any("sentinel failed" in r.getMessage() for r in logs.records))
        assert client.get("/slow/1").json() == 1
        wait_for(lambda: bool(named(metrics, "boundary.loop.stall")))


def test_raise_errors_makes_a_slow_step_fail_its_request() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await SlowRepository().get(item_id)

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config([], raise_errors=True, lag_threshold=10.0), check="off")
    with TestClient(app) as client, pytest.raises(BlockingCallError) as raised:
        client.get("/items/8")
    assert "SlowRepository.get" in str(raised.value)
    assert "GET /items/{item_id}" in str(raised.value)


def test_the_middleware_can_be_added_by_hand() -> None:
    metrics: list[Metric] = []
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await SlowRepository().get(item_id)

    app.add_middleware(BoundaryMonitorMiddleware, config=config(metrics))
    with TestClient(app) as client:
        assert client.get("/items/1").json() == 1
        assert step_timing.active
    assert named(metrics, "boundary.step.blocking")


def test_opentelemetry_instruments_record_the_metrics() -> None:
    recorded: list[tuple[str, str, float, dict[str, str]]] = []

    class Instrument:
        def __init__(self, kind: str, name: str) -> None:
            self.kind, self.name = kind, name

        def record(self, value: float, attributes: dict[str, str]) -> None:
            recorded.append((self.kind, self.name, value, dict(attributes)))

        add = set = record

    class Meter:
        def create_histogram(self, name: str, unit: str) -> Instrument:
            return Instrument("histogram", name)

        def create_counter(self, name: str, unit: str) -> Instrument:
            return Instrument("counter", name)

        def create_gauge(self, name: str, unit: str) -> Instrument:
            return Instrument("gauge", name)

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        return await SlowRepository().get(item_id)

    # blocks on purpose: the audit (R5) would refuse to start it
    install(app, monitor=config([], meter=Meter(), opentelemetry=True), check="off")
    with TestClient(app) as client:
        client.get("/items/1")
        wait_for(lambda: any(r[1] == "boundary.offload.total" for r in recorded))
    kinds = {name: kind for kind, name, _, _ in recorded}
    assert kinds["boundary.step.blocking"] == "histogram"
    assert kinds["boundary.loop.lag"] == "histogram"
    assert kinds["boundary.offload.waiting"] == "gauge"


def test_the_opentelemetry_api_is_used_when_importable() -> None:
    pytest.importorskip("opentelemetry.metrics")
    app = FastAPI()
    middleware = BoundaryMonitorMiddleware(app, MonitorConfig())
    middleware.monitor.start(None)
    try:
        assert middleware.monitor.otel is not None
    finally:
        middleware.monitor.stop()


# --- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        ({"sample_rate": -0.1}, r"sample_rate=\.\.\.\) must be a fraction of calls in \(0, 1\]"),
        ({"sample_rate": 2}, r"got 2\. Fix: pass e\.g\. 0\.01"),
        ({"step_threshold": -1}, r"step_threshold=\.\.\.\) must be a finite number of seconds"),
        ({"lag_threshold": 0}, r"lag_threshold=\.\.\.\) must be a finite number of seconds"),
        ({"lag_interval": "1s"}, r"lag_interval=\.\.\.\) must be a finite number of seconds"),
        ({"metrics": "prometheus"}, r"metrics=\.\.\.\) takes a callable receiving a Metric"),
        ({"endpoints": "yes"}, r"endpoints=\.\.\.\) takes True or False"),
        ({"bogus": 1}, r"unexpected keyword argument 'bogus'.*Fix: use the fields"),
        ({"profile": 3}, r"profile=\.\.\.\) takes the path of the file to write; got 3"),
        ({"profile_sample_rate": 0}, r"profile_sample_rate=\.\.\.\) must be a fraction"),
        ({"profile_every": float("inf")}, r"profile_every=\.\.\.\) must be a finite number"),
        ("on", r"takes a MonitorConfig, a mapping of its fields, True or None; got 'on'"),
    ],
)
def test_a_misconfigured_monitor_is_an_error_at_install(monitor: Any, message: str) -> None:
    app = FastAPI()
    with pytest.raises(BoundaryError, match=message):
        install(app, monitor=monitor)
    assert not app.user_middleware


def test_a_monitor_config_is_checked_when_created() -> None:
    with pytest.raises(BoundaryError, match=r"MonitorConfig\(sample_rate=\.\.\.\)"):
        MonitorConfig(sample_rate=-1)


@pytest.mark.parametrize("field", ["lag_interval", "lag_threshold", "step_threshold", "log_every"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0, -0.5, 1e9])
def test_a_duration_that_would_switch_a_probe_off_is_refused_naming_the_range(
    field: str, value: float
) -> None:
    """lag_interval=inf would put the sentinel to sleep for good: the monitor silently off."""
    upper = "86400" if field == "log_every" else "60"
    options: dict[str, Any] = {field: value}
    with pytest.raises(BoundaryError) as caught:
        MonitorConfig(**options)
    message = str(caught.value)
    assert f"MonitorConfig({field}=...) must be a finite number of seconds in (0, {upper}]" in (
        message
    )
    assert f"got {value!r}. Fix: pass e.g." in message
    MonitorConfig(**{**options, field: float(upper)})  # the upper end of the range is accepted


def test_a_second_install_with_another_monitor_is_an_error_naming_the_first() -> None:
    app = FastAPI()
    install(app, monitor=True)
    first_line = line_of(
        test_a_second_install_with_another_monitor_is_an_error_naming_the_first,
        "install(app, monitor=True)",
    )
    install(app, monitor=MonitorConfig())  # the same configuration: a no-op
    install(app)  # no monitor asked for: a no-op
    with pytest.raises(BoundaryError) as caught:
        install(app, monitor=MonitorConfig(sample_rate=0.5))
    message = str(caught.value)
    assert f"installed already at tests/runtime/{HERE}:{first_line} with MonitorConfig(" in message
    assert "this monitor configuration would be ignored" in message
    assert "Fix: configure the monitor in the first install(app, ...) call" in message
    plain = FastAPI()
    install(plain)
    with pytest.raises(BoundaryError, match=r"installed already at .* with no monitor"):
        install(plain, monitor=True)
    assert plain.__boundary_monitor__ is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", [None, True, 3, b"warn"])
def test_configure_refuses_a_value_that_is_not_a_policy_string(mode: object) -> None:
    with pytest.raises(BoundaryError) as caught:
        configure(mode)  # type: ignore[arg-type]
    assert str(caught.value) == (
        f"configure(mode=...) must be one of strict, warn, off; got {mode!r}. "
        "Fix: configure('strict'), 'warn' or 'off'."
    )


def test_install_runs_one_monitor_without_middleware_and_true_means_defaults() -> None:
    app = FastAPI()
    install(app, monitor=True)
    install(app, monitor=True)  # installing twice is a no-op
    assert app.user_middleware == []  # requests pay nothing: the lifespan runs it
    monitor = app.__boundary_monitor__  # type: ignore[attr-defined]
    assert monitor.config == MonitorConfig()
    with TestClient(app):
        assert monitor.running
        assert [name for name in step_timing.consumers() if name.startswith("monitor:")] == [
            monitor._sink_name
        ]
    assert not monitor.running


def test_install_after_the_app_started_is_an_error_naming_the_fix() -> None:
    app = FastAPI()
    with TestClient(app), pytest.raises(BoundaryError, match=r"before the app starts serving"):
        install(app, monitor=True)
