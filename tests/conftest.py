"""Shared fixtures: every test starts in strict mode and leaves no library state behind."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version as anyio_version

import pytest

from fastapi_boundary._audit.enforcement import configure
from fastapi_boundary._runtime import guard, loop_threads
from fastapi_boundary._runtime.state import reset_state, save_state


@pytest.fixture(autouse=True)
def _isolated_boundary_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Deferred references, the check mode, limiter sizes and the guard must not leak.

    The run-time guard must also be off after every test, with no loop thread
    left registered, unless the session itself runs under ``--boundary``
    (the plugin owns the guard then).
    """
    saved = save_state()
    configure("strict")
    yield
    plugin_owns_guard = request.config.pluginmanager.has_plugin("fastapi-boundary-guard")
    left_on = not plugin_owns_guard and guard.is_enabled()
    if not plugin_owns_guard:
        guard.disable()  # unregisters the thread the guard registered itself, if any
    left_registered = not plugin_owns_guard and loop_threads.registered_threads()
    reset_state(saved, keep_guard=plugin_owns_guard)
    assert not left_on, "a test left the fastapi-boundary guard on"
    assert not left_registered, "a test left a loop thread registered"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


_ANYIO_3 = int(anyio_version("anyio").split(".")[0]) < 4


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On anyio 3, skip what runs anyio's trio backend (it needs trio < 0.22, which warns)."""
    if not _ANYIO_3:
        return
    skip = pytest.mark.skipif(
        True, reason="needs anyio >= 4: anyio 3's trio backend needs trio < 0.22"
    )
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "trio" in item.name or "trio" in params.values() or item.name in _RUNS_TRIO:
            item.add_marker(skip)


_RUNS_TRIO = {"test_one_pool_serves_several_event_loops_in_turn"}
