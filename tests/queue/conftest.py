"""Fixtures of the queue tests: a real Redis (broker and result backend) and real Celery workers.

Where Redis comes from:

- ``FASTAPI_BOUNDARY_TEST_REDIS_URL`` set (CI: ``.ci/run`` starts a server and
  exports it): that server, one database per xdist worker, flushed first.  If
  it does not answer, the tests fail: CI never skips them silently.
- unset, and ``redis-server`` on the PATH (a developer's machine): a server
  of this session's own (per xdist worker), stopped at the end.
- neither: the tests that need Redis skip, saying why.

Without the celery extra (``pip install -e '.[celery]'``; ``scripts/install``
installs it) the directory is not collected, unless the URL above is set:
then it is an error, as CI must run these tests.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest

from tests.queue.servers import CeleryWorker, RedisServer, ping

REDIS_URL_VARIABLE = "FASTAPI_BOUNDARY_TEST_REDIS_URL"

if importlib.util.find_spec("celery") is None or importlib.util.find_spec("redis") is None:
    if os.environ.get(REDIS_URL_VARIABLE):
        raise RuntimeError(
            f"{REDIS_URL_VARIABLE} is set but Celery is not installed: the queue tests would "
            f"not run. Fix: scripts/install (pip install -e '.[celery]')"
        )
    collect_ignore_glob = ["*.py"]  # a developer's venv without the extra


def _database() -> int:
    """One Redis database per xdist worker (0 without xdist), so parallel sessions never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) + 1 if worker.startswith("gw") else 0


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL of a server that answers, with an empty database."""
    given = os.environ.get(REDIS_URL_VARIABLE)
    if given:
        parts = urlsplit(given)
        host, port = parts.hostname or "127.0.0.1", parts.port or 6379
        if not ping(host, port):
            pytest.fail(f"{REDIS_URL_VARIABLE}={given} is set, but no Redis answers there")
        url = f"redis://{host}:{port}/{_database()}"
        import redis

        with redis.Redis.from_url(url) as client:
            client.flushdb()
        yield url
        return
    if not RedisServer.available():
        pytest.skip(
            f"needs Redis: set {REDIS_URL_VARIABLE} or install redis-server "
            f"(apt-get install redis-server); .ci/run does both"
        )
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def celery_worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two prefork worker processes of ``tests.queue.tasks``; the test process's app points there.

    Yields the Redis URL the app uses.
    """
    from tests.queue import tasks

    tasks.app.conf.update(broker_url=redis_url, result_backend=redis_url)
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    worker = CeleryWorker("tests.queue.tasks", redis_url, log, concurrency=2)
    try:
        yield redis_url
    finally:
        worker.stop()
        anyio.run(tasks.backend.shutdown)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, which the test may stop and start again."""
    if not RedisServer.available():
        if os.environ.get(REDIS_URL_VARIABLE):
            pytest.fail("redis-server is not on the PATH, but .ci/run should have installed it")
        pytest.skip("needs redis-server on the PATH (apt-get install redis-server)")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
