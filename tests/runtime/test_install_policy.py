"""How install()'s start-up audit reacts: monitoring never depends on passing the audit.

The default is decided by `start_up_policy`: ``check=``, else the chosen
check mode (``configure``, ``FASTAPI_BOUNDARY_MODE``), else the table's
``policy``, else ``warn`` for an app that runs the monitor or is being
adopted (a baseline, layers in the table) and ``strict`` for any other.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fastapi_boundary import (
    BoundaryConfig,
    BoundaryError,
    BoundaryViolationsError,
    SyncService,
    install,
    load_config,
)
from fastapi_boundary._audit.adoption import update_baseline
from fastapi_boundary._audit.app_check import check_app
from fastapi_boundary._audit.enforcement import configure, reset_mode
from fastapi_boundary._common.config import LayerRule
from fastapi_boundary._runtime.install import start_up_policy
from tests.samples.legacy import LAYERS
from tests.samples.legacy.main import make_app


class Service(SyncService):
    def get(self) -> int:
        return 1


def broken_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    async def items(service: Annotated[Service, Depends()]) -> int:
        return 1

    return app


@pytest.fixture
def no_mode_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in production: neither configure() nor FASTAPI_BOUNDARY_MODE (conftest sets strict)."""
    monkeypatch.delenv("FASTAPI_BOUNDARY_MODE", raising=False)
    reset_mode()


EMPTY = BoundaryConfig()
ADOPTING = BoundaryConfig(layers=(LayerRule("app.*", "sync", "repository"),))


@pytest.mark.usefixtures("no_mode_chosen")
@pytest.mark.parametrize(
    ("check", "env", "config", "monitoring", "expected"),
    [
        (None, None, EMPTY, False, "strict"),  # a new app: strict, as before
        (None, None, EMPTY, True, "warn"),  # the monitor never stops an app from starting
        (None, None, ADOPTING, False, "warn"),  # layers declared in the table
        (None, None, BoundaryConfig(baseline=Path("b.json")), False, "warn"),
        (None, None, BoundaryConfig(policy="off"), True, "off"),  # the table's policy
        (None, "strict", EMPTY, True, "strict"),  # the chosen mode wins over the default
        (None, "warn", BoundaryConfig(policy="strict"), False, "warn"),  # and over the table
        ("strict", "warn", EMPTY, True, "strict"),  # check= wins over everything
    ],
)
def test_the_start_up_policy(
    monkeypatch: pytest.MonkeyPatch,
    check: str | None,
    env: str | None,
    config: BoundaryConfig,
    monitoring: bool,
    expected: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("FASTAPI_BOUNDARY_MODE", env)
    assert start_up_policy(check, config, monitoring=monitoring) == expected  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_mode_chosen")
def test_the_monitor_starts_an_app_with_violations_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``install(app, monitor=True)``, exactly as the monitor page shows it."""
    app = install(broken_app(), monitor=True, config=EMPTY)
    with caplog.at_level(logging.WARNING, logger="fastapi_boundary"), TestClient(app) as client:
        assert client.get("/items").json() == 1
    assert "boundary violations found at start-up" in caplog.text
    assert "R3 same-mode-dependencies" in caplog.text


@pytest.mark.usefixtures("no_mode_chosen")
def test_strict_is_opt_in_with_the_monitor() -> None:
    app = install(broken_app(), monitor=True, check="strict", config=EMPTY)
    with pytest.raises(BoundaryViolationsError), TestClient(app):
        pass


@pytest.mark.usefixtures("no_mode_chosen")
def test_without_the_monitor_a_new_app_stays_strict() -> None:
    app = install(broken_app(), config=EMPTY)
    with pytest.raises(BoundaryViolationsError), TestClient(app):
        pass


@pytest.mark.usefixtures("no_mode_chosen")
def test_the_tables_policy_and_baseline_apply_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.fastapi-boundary]\npolicy = "strict"\nbaseline = "baseline.json"\n{LAYERS}'
    )
    monkeypatch.chdir(tmp_path)  # install() reads the table from the working folder
    config = load_config()
    update_baseline(check_app(make_app(), config=config), tmp_path / "baseline.json")

    # the known findings pass: strict starts, and says nothing
    app = install(make_app(), monitor=True)
    with caplog.at_level(logging.WARNING, logger="fastapi_boundary"), TestClient(app) as client:
        assert client.get("/reports").status_code == 200
    assert caplog.text == ""

    # a new cause: the table says strict, so it refuses to start
    with pytest.raises(BoundaryViolationsError) as caught, TestClient(install(make_app(new=True))):
        pass
    assert [v.route for v in caught.value.violations] == ["GET /export"] * 2  # R3 and R5


def test_a_mistake_in_the_table_is_an_error_at_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-boundary]\npolicy = "loud"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BoundaryError, match=r"pyproject.toml: \[tool.fastapi-boundary\] policy"):
        install(FastAPI())


def test_a_chosen_mode_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' conftest chooses strict with configure(): install follows it."""
    configure("warn")
    assert start_up_policy(None, BoundaryConfig(policy="strict"), monitoring=False) == "warn"
