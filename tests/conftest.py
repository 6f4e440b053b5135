"""Shared fixtures: every test starts with no deferred references and strict mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fastapi_boundary._audit import enforcement as _config
from fastapi_boundary._audit import registry
from fastapi_boundary._offload import threads as _threads


@pytest.fixture(autouse=True)
def _isolated_boundary_state() -> Iterator[None]:
    """Deferred references, the check mode and limiter sizes must not leak between tests."""
    deferred = registry.all_deferred()
    mode = _config._mode
    _config._mode = "strict"
    try:
        yield
    finally:
        registry.restore_deferred(deferred)
        _config._mode = mode
        for limiter in _threads._declared.values():  # sizes set by install() or a test
            limiter._size = limiter.declared_size


@pytest.fixture(autouse=True)
def _guard_left_off(request: pytest.FixtureRequest) -> Iterator[None]:
    """The run-time guard must be off after every test, with nothing recorded or registered."""
    from fastapi_boundary._runtime import detection as _detection
    from fastapi_boundary._runtime import guard as _guard

    yield
    if request.config.pluginmanager.has_plugin("fastapi-boundary-guard"):
        return  # the session itself runs under --boundary: the plugin owns the state
    left_on = _guard.is_enabled()
    _guard.disable()
    _detection.recorder.clear()
    assert not left_on, "a test left the fastapi-boundary guard on"
    assert not _detection._loop_threads, "a test left a loop thread registered"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
