"""The migration plan: applied to a copy of the generated app, ``check`` passes after it.

The classic router (``SyncRouter`` over ``ItemService`` over ``ItemRepository`` over a
SQLAlchemy ``Session``) goes async; ``CategoryRepository`` is shared with the reports
router, so the plan keeps it sync behind ``to_async`` and says what moving it would drag.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fastapi_boundary.cli import main
from tests.advise.generated import apply_plan, write_app
from tests.helpers import run_python


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    package = f"shop_{uuid.uuid4().hex[:8]}"
    write_app(tmp_path / "original", package)
    yield tmp_path, package
    for name in [name for name in sys.modules if name.partition(".")[0] == package]:
        del sys.modules[name]


def plan_of(root: Path, package: str, mode: str, target: str, capsys: Any) -> dict[str, Any]:
    argv = ["advise", f"{package}.main:app", "--app-dir", str(root), "--format", "json"]
    assert main([*argv, "--to", mode, target]) == 0
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)
    return plan


def test_the_plan_lists_the_chain_bottom_up_with_drivers_and_refusals(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    plan = plan_of(tmp / "original", package, "async", f"{package}.routers:classic", capsys)
    assert plan["routes"] == ["GET /classic/items", "GET /classic/items/{item_id}"]
    steps = [(s["kind"], s["object"], s["from"], s["to"]) for s in plan["steps"]]
    assert steps == [
        ("repository", "ItemRepository", "sync", "async"),
        ("service", "ItemService", "sync", "async"),
        ("endpoint", "list_items", "sync", "async"),
        ("endpoint", "get_item", "sync", "async"),
        ("router", f"{package}.routers:classic", "sync", "async"),
    ]
    repository = plan["steps"][0]
    assert repository["driver"] == {
        "from": "sqlalchemy.orm.session.Session",
        "to": "sqlalchemy.ext.asyncio.AsyncSession",
    }
    assert {
        "edit": "replace",
        "file": f"{package}/repositories.py",
        "line": 18,
        "old": "Annotated[Session, Depends(get_session)]",
        "new": "Annotated[AsyncSession, Depends(get_async_session)]",
    } in repository["edits"]
    assert repository["refused_until_done"] == [
        "R3 same-mode-dependencies: sync service ItemService depends on async repository "
        "ItemRepository (LayerDependencyError at import) until step 2 makes ItemService async"
    ]
    assert plan["steps"][2]["refused_until_done"] == [
        "R2 callable-mode: an async endpoint list_items on a sync router (RouteModeError at "
        "import) until step 5 declares the router async"
    ]


def test_the_plan_names_the_shared_layer_that_would_drag_a_second_router(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    plan = plan_of(tmp / "original", package, "async", f"{package}.routers:classic", capsys)
    assert plan["shared"] == [
        {
            "layer": "CategoryRepository",
            "mode": "sync",
            "routes": ["GET /reports/categories"],
            "routers": [f"{package}.routers:reports"],
            "text": "CategoryRepository is shared: making it async drags GET /reports/categories "
            "along (their layers would hold an async CategoryRepository and be refused at "
            "import time)",
            "boundary": "keep CategoryRepository sync and cross once: its async user takes "
            "AsyncProxy[CategoryRepository] from a provider category_repository_async that "
            "returns to_async(...) (each call runs in a worker thread)",
        }
    ]


def applied(
    tmp: Path, package: str, plan: dict[str, Any]
) -> tuple[Path, list[str], dict[str, Any]]:
    """The plan applied to a copy of the app, and ``check --format json`` run on the copy."""
    copy = tmp / "copy"
    shutil.copytree(tmp / "original", copy)
    changed = apply_plan(plan, copy)
    argv = ["check", f"{package}.main:app", "--app-dir", str(copy), "--format", "json"]
    checked = run_python("-m", "fastapi_boundary", *argv)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report: dict[str, Any] = json.loads(checked.stdout)
    return copy, changed, report


def advice_on(root: Path, package: str) -> dict[str, dict[str, Any]]:
    """``advise --format json`` on an app, in a fresh interpreter: the advice per route."""
    argv = ["advise", f"{package}.main:app", "--app-dir", str(root), "--format", "json"]
    advised = run_python("-m", "fastapi_boundary", *argv)
    assert advised.returncode == 0, advised.stderr
    return {item["route"]: item for item in json.loads(advised.stdout)["routes"]}


@pytest.mark.slow
def test_applying_the_plan_to_a_copy_makes_check_pass_with_the_router_async(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    plan = plan_of(tmp / "original", package, "async", f"{package}.routers:classic", capsys)
    copy, changed, report = applied(tmp, package, plan)
    assert changed == [f"{package}/{name}.py" for name in ("repositories", "routers", "services")]
    modes = {item["label"]: (item["mode"], item["declared"]) for item in report["routes"]}
    assert modes["GET /classic/items"] == ("async", True)
    assert modes["GET /classic/items/{item_id}"] == ("async", True)
    assert modes["GET /reports/categories"] == ("sync", True)
    source = (copy / package / "services.py").read_text()
    assert "class ItemService(AsyncService):" in source
    assert "return to_async(category_repository)" in source
    advice = advice_on(copy, package)["GET /classic/items"]
    assert (advice["mode"], advice["row"]) == ("async", "async-sqlalchemy")
    assert (
        "reaches sync SQLAlchemy Session driver behind an explicit offload (in a worker thread)"
        in advice["evidence"]
    )


@pytest.mark.slow
def test_a_plan_back_to_sync_applied_makes_check_pass(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    plan = plan_of(tmp / "original", package, "sync", f"{package}.routers:async_db", capsys)
    assert [(s["kind"], s["object"]) for s in plan["steps"]] == [
        ("repository", "AsyncItemRepository"),
        ("endpoint", "list_async_items"),
        ("router", f"{package}.routers:async_db"),
    ]
    assert plan["steps"][0]["driver"]["to"] == "sqlalchemy.orm.Session"
    _, _, report = applied(tmp, package, plan)
    modes = {item["label"]: item["mode"] for item in report["routes"]}
    assert modes["GET /async/items"] == "sync"


def test_an_unknown_target_lists_the_routers(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    argv = ["advise", f"{package}.main:app", "--app-dir", str(tmp / "original")]
    assert main([*argv, "--to", "async", "nothing:here"]) == 2
    err = capsys.readouterr().err
    assert "advise --to: 'nothing:here' names no router, route or endpoint of the app" in err
    assert f"{package}.routers:classic" in err


@pytest.mark.slow
def test_a_plan_for_one_route_splits_its_router_and_keeps_the_shared_service_sync(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, package = shop
    plan = plan_of(tmp / "original", package, "async", "GET /classic/items", capsys)
    assert [(s["kind"], s["object"]) for s in plan["steps"]] == [
        ("endpoint", "list_items"),
        ("router", f"{package}.routers:classic_async"),
    ]
    assert plan["steps"][1]["summary"] == (
        f"{package}.routers:classic also serves GET /classic/items/{{item_id}}: the moved "
        "routes go to a new AsyncRouter classic_async, included where classic is"
    )
    assert [entry["layer"] for entry in plan["shared"]] == ["ItemService"]
    _, changed, report = applied(tmp, package, plan)
    assert changed == [f"{package}/main.py", f"{package}/routers.py"]
    modes = {item["label"]: (item["mode"], item["declared"]) for item in report["routes"]}
    assert modes["GET /classic/items"] == ("async", True)
    assert modes["GET /classic/items/{item_id}"] == ("sync", True)
    advice = advice_on(tmp / "copy", package)["GET /classic/items"]  # all of it in threads now
    assert (advice["mode"], advice["row"]) == ("sync", "async-over-offload")
