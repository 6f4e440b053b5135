"""``advise`` gives the guide's answer for each row of its decision matrix, and premature async.

One generated app (``generated.py``: SQLAlchemy sync over SQLite, SQLAlchemy async over
aiosqlite, an async HTTP client, a ``@cpu_bound`` function, an in-memory repository, an
aiosqlite connection, two ``async def`` routes that await nothing), audited once.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fastapi_boundary._advise.report import AppAdvice, advise_app
from fastapi_boundary._audit.app_check import check_app
from fastapi_boundary.cli import load_app, main
from tests.advise.generated import write_app


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("advise")
    package = f"shop_{uuid.uuid4().hex[:8]}"
    write_app(root, package)
    yield root, package
    for name in [name for name in sys.modules if name.partition(".")[0] == package]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def advice(shop: tuple[Path, str]) -> AppAdvice:
    root, package = shop
    app = load_app(f"{package}.main:app", app_dir=str(root))
    return advise_app(check_app(app), app, target=f"{package}.main:app")


def route(advice: AppAdvice, label: str) -> Any:
    return next(item for item in advice.routes if item.route == label)


@pytest.mark.parametrize(
    ("label", "row", "mode", "seen"),
    [
        ("GET /classic/items", "classic-sqlalchemy", "sync", "sync SQLAlchemy Session driver"),
        ("GET /async/items", "async-sqlalchemy", "async", "async SQLAlchemy AsyncSession driver"),
        ("GET /external/rates/{currency}", "external-http", "async", "httpx AsyncClient"),
        ("POST /cpu/digest", "cpu-heavy", "sync", "digest, marked @cpu_bound"),
        ("GET /notes/{note_id}", "simple-crud", "sync", "sync repository NoteRepository"),
        ("GET /events/count", "high-concurrency-io", "async", "aiosqlite Connection"),
    ],
)
def test_each_row_of_the_decision_matrix(
    advice: AppAdvice, label: str, row: str, mode: str, seen: str
) -> None:
    found = route(advice, label)
    assert (found.row.key, found.mode.value) == (row, mode)
    assert found.current.value == mode  # the generated app already follows the guide
    assert found.action == f"keep it {mode}" or row == "cpu-heavy"
    assert any(seen in text for text in found.evidence), found.evidence


def test_classic_sqlalchemy_names_the_blocking_calls_and_why(advice: AppAdvice) -> None:
    found = route(advice, "GET /classic/items")
    assert found.reason == (
        "classic SQLAlchemy is a blocking driver: async helps only with async DB drivers"
    )
    assert found.confidence == "high"
    assert any(
        "Session.scalars, a blocking db call, called by ItemRepository.list_all" in text
        for text in found.evidence
    )


def test_cpu_work_is_sync_with_a_process_or_queue_offload(advice: AppAdvice) -> None:
    found = route(advice, "POST /cpu/digest")
    assert "async does not help CPU-bound tasks" in found.reason
    assert "run_cpu" in found.action and "worker queue" in found.action


@pytest.mark.parametrize("label", ["GET /premature/health", "GET /premature/totals/{a}/{b}"])
def test_an_async_route_that_awaits_nothing_is_premature_async(
    advice: AppAdvice, label: str
) -> None:
    found = route(advice, label)
    assert (found.row.key, found.current.value, found.mode.value) == (
        "premature-async",
        "async",
        "sync",
    )
    endpoint = label.split("/")[2].split("{")[0].strip("/")
    assert found.action.startswith(f"make {endpoint} a plain def (on a SyncRouter)")
    assert "premature" in found.reason


def test_an_in_memory_repository_says_what_it_could_not_see(advice: AppAdvice) -> None:
    found = route(advice, "GET /notes/{note_id}")
    assert found.confidence == "low"
    assert found.unseen == [
        "no known driver under NoteRepository: where the data comes from was not seen (an "
        "in-memory store, or a client no table knows)"
    ]


def test_rollups_per_router_and_for_the_app(advice: AppAdvice, shop: tuple[Path, str]) -> None:
    _, package = shop
    routers = {rollup.name: rollup for rollup in advice.routers}
    assert routers[f"{package}.routers:classic"].summary == "sync: all 2 route(s) agree"
    premature = routers[f"{package}.routers:premature"]
    assert (premature.mode.value if premature.mode else None, premature.disagree) == ("sync", 2)
    assert advice.app.premature == 2
    assert advice.app.modes == {"sync": 7, "async": 3}


def test_json_carries_mode_reason_evidence_and_confidence_per_route(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, package = shop
    status = main(["advise", f"{package}.main:app", "--app-dir", str(root), "--format", "json"])
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 1
    routes = {item["route"]: item for item in document["routes"]}
    events = routes["GET /events/count"]
    assert set(events) >= {"mode", "reason", "evidence", "confidence", "unseen", "row"}
    assert (events["mode"], events["row"], events["confidence"]) == (
        "async",
        "high-concurrency-io",
        "high",
    )
    assert routes["GET /premature/health"]["current"] == "async"
    assert routes["GET /premature/health"]["mode"] == "sync"
    assert document["app"]["premature_async"] == 2


def test_the_table_names_each_route_its_row_and_the_fix(
    shop: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, package = shop
    assert main(["advise", f"{package}.main:app", "--app-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert (
        "  GET /premature/health  sync  [Premature async]  confidence medium  async -> sync" in out
    )
    assert "      do: make health a plain def (on a SyncRouter)" in out
    assert f"  {package}.routers:classic: sync: all 2 route(s) agree" in out
