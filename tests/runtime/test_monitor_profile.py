"""The monitor's profile in process: written when the app stops, every original put back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from fastapi_boundary import install
from fastapi_boundary._runtime.monitor import MonitorConfig


def test_the_profile_is_written_at_shutdown_and_the_routes_restored(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/wait/{item_id}")
    async def wait(item_id: int) -> int:
        await anyio.sleep(0)
        return item_id

    @app.get("/sync")
    def sync() -> str:
        return "ok"

    router = APIRouter(prefix="/included")  # FastAPI 0.165 serves it through a context

    @router.get("/{item_id}")
    def included(item_id: int) -> int:
        return item_id

    app.include_router(router)

    path = tmp_path / "profile.json"
    config = MonitorConfig(profile=path, profile_sample_rate=1.0, opentelemetry=False)
    install(app, monitor=config, check="off")
    routes: dict[str, Any] = {
        route.path: route for route in app.routes if isinstance(route, APIRoute)
    }
    before = {path_: (r.app, r.dependant.call) for path_, r in routes.items()}
    with TestClient(app) as client:
        assert routes["/sync"].app is not before["/sync"][0]
        assert client.get("/wait/123456", params={"token": "secret"}).json() == 123456
        assert client.get("/sync").json() == "ok"
        assert client.get("/included/7").json() == 7
    after = {path_: (r.app, r.dependant.call) for path_, r in routes.items()}
    assert after == before
    text = path.read_text()
    document = json.loads(text)
    assert (document["format"], document["version"]) == ("fastapi-boundary-profile", 1)
    assert set(document["routes"]) == {
        "GET /wait/{item_id}",
        "GET /sync",
        "GET /included/{item_id}",
    }
    assert document["routes"]["GET /sync"]["requests"] == 1
    assert document["threads"]["peak_sync"] == 1
    assert "123456" not in text and "secret" not in text
