"""Shared fixtures: every test starts with no deferred references and strict mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fastapi_boundary import _config
from fastapi_boundary import _references as references


@pytest.fixture(autouse=True)
def _isolated_boundary_state() -> Iterator[None]:
    """Forward references deferred by one test must not leak into the next."""
    deferred = list(references._deferred)
    mode = _config._mode
    _config._mode = "strict"
    try:
        yield
    finally:
        references._deferred[:] = deferred
        _config._mode = mode


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
