"""pytest plugin: the blocking-call guard for test runs (being built; inert until opted in)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastapi-boundary")
    group.addoption(
        "--boundary",
        choices=("strict", "warn", "off"),
        default=None,
        help="fastapi-boundary guard: raise (strict), warn, or stay off (default).",
    )
