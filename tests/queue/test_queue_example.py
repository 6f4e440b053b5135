"""The async bookshop's CPU work: local worker processes by default, Celery with a Redis URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import NEEDS_DEPENDS_SCOPE, run_python
from tests.queue.servers import CeleryWorker

pytestmark = [pytest.mark.slow, NEEDS_DEPENDS_SCOPE]

TEXT = "The whale, the whale! Call me Ishmael. The whale swims; Ishmael writes."
STATS = {"words": 12, "distinct_words": 7, "reading_minutes": 0.1}

CLIENT = f"""
import json
from fastapi.testclient import TestClient
from examples.async_bookshop.main import app

with TestClient(app) as client:
    stats = client.post("/manuscripts/stats", json={{"text": {TEXT!r}}}).json()
    created = client.post("/customers", json={{"name": "ann", "password": "s3cret-pass"}})
    good = client.post("/login", json={{"name": "ann", "password": "s3cret-pass"}})
    bad = client.post("/login", json={{"name": "ann", "password": "wrong-pass"}})
print(json.dumps([stats, created.status_code, good.status_code, bad.status_code]))
"""


def test_by_default_the_cpu_route_runs_in_local_worker_processes() -> None:
    from examples.async_bookshop.main import app

    with TestClient(app) as client:
        stats = client.post("/manuscripts/stats", json={"text": TEXT}).json()
    assert {key: stats[key] for key in STATS} == STATS
    assert stats["top_words"][0] == "whale"


@pytest.fixture
def bookshop_worker(celery_worker: str, tmp_path: Path) -> Iterator[tuple[str, CeleryWorker]]:
    env = {"BOOKSHOP_REDIS_URL": celery_worker}
    worker = CeleryWorker(
        "examples.async_bookshop.worker",
        celery_worker,
        tmp_path / "bookshop-worker.log",
        concurrency=1,
        queue="bookshop-cpu",
        name="bookshop",
        env=env,
    )
    try:
        yield celery_worker, worker
    finally:
        worker.stop()


def test_with_a_redis_url_the_same_routes_run_on_celery_workers(
    bookshop_worker: tuple[str, CeleryWorker],
) -> None:
    url, worker = bookshop_worker
    result = run_python("-c", CLIENT, env={"BOOKSHOP_REDIS_URL": url})
    assert result.returncode == 0, result.stderr
    stats, created, good, bad = json.loads(result.stdout.strip().splitlines()[-1])
    assert {key: stats[key] for key in STATS} == STATS
    assert (created, good, bad) == (201, 200, 401)  # bytes salts and hashes crossed the queue
    log = worker.output()
    assert log.count("Task fastapi_boundary.run_cpu[") >= 5, log  # stats, hash, two checks
