"""install(app): the start-up check, wrapped around the app's own lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    BoundaryError,
    BoundaryViolationsError,
    SyncService,
    install,
)


class Service(SyncService):
    def get(self) -> int:
        return 1


def broken_app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.get("/items")
    async def items(service: Annotated[Service, Depends()]) -> int:
        return 1

    return app


def test_strict_refuses_to_start_with_the_report() -> None:
    app = install(broken_app())
    with pytest.raises(BoundaryViolationsError) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert message.startswith("FastAPI app 'FastAPI' has boundary violations; refusing to start")
    assert "R3 same-mode-dependencies: async endpoint items" in message
    assert len(caught.value.violations) == 1
    assert isinstance(caught.value, RuntimeError)


def test_warn_logs_and_serves(caplog: pytest.LogCaptureFixture) -> None:
    app = install(broken_app(), check="warn")
    with caplog.at_level(logging.WARNING, logger="fastapi_boundary"), TestClient(app) as client:
        assert client.get("/items").json() == 1
    assert "boundary violations found at start-up" in caplog.text
    assert "async endpoint items" in caplog.text


def test_off_skips_the_check() -> None:
    app = install(broken_app(), check="off")
    with TestClient(app) as client:
        assert client.get("/items").status_code == 200


def test_the_apps_own_lifespan_still_runs() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    def read(request: Any = None) -> str:
        return "ok"

    install(app)
    install(app)  # a second call is a no-op
    with TestClient(app) as client:
        assert client.get("/").json() == "ok"
    assert events == ["startup", "shutdown"]


def test_install_rejects_what_is_not_an_app() -> None:
    with pytest.raises(BoundaryError, match="install\\(\\) needs a FastAPI or Starlette app"):
        install(object())  # type: ignore[type-var]
    with pytest.raises(
        BoundaryError, match=r"install\(check=...\) must be one of strict, warn, off"
    ):
        install(FastAPI(), check="loud")  # type: ignore[arg-type]
