"""Suppressions: in code and in the configuration, always with a reason, reported when stale."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI

from fastapi_boundary import (
    Adoption,
    AsyncRouter,
    AsyncService,
    BoundaryError,
    LayerDeclarationError,
    LayerDependencyError,
    RouteModeError,
    SyncRepository,
    check_app,
    layer,
    load_config,
    suppress_rule,
)
from fastapi_boundary._audit.adoption import adoption_of, verdict
from fastapi_boundary._audit.report import RouteReport
from fastapi_boundary._audit.suppressions import matches_route
from fastapi_boundary._common.config import BoundaryConfig
from tests.helpers import line_of
from tests.samples.legacy import LAYERS
from tests.samples.legacy import main as legacy

HERE = Path(__file__)


def adoption(report: Any) -> Adoption:
    found = adoption_of(report)
    assert found is not None
    return found


def legacy_config(folder: Path, suppress: str = "") -> BoundaryConfig:
    path = folder / "pyproject.toml"
    path.write_text(f"[tool.fastapi-boundary]\n{LAYERS}\n{suppress}")
    return load_config(path)


class Repository(SyncRepository):
    def get(self) -> int:
        return 1


# --- a suppression says why, or is refused where it is written --------------------------------


def test_a_decorator_without_a_reason_names_its_line() -> None:
    with pytest.raises(LayerDeclarationError) as caught:

        @suppress_rule("R3")
        def endpoint() -> None: ...

    line = line_of(test_a_decorator_without_a_reason_names_its_line, '@suppress_rule("R3")')
    assert str(caught.value) == (
        f"@suppress_rule('R3') at tests/audit/test_suppressions.py:{line} needs a reason: a "
        'suppression says why. Fix: add reason="why this is allowed, and until when".'
    )


@pytest.mark.parametrize(
    ("rules", "complaint"),
    [((), "names no rule"), (("R7",), "unknown rule 'R7'. Fix: use one of R1, R2, R3.")],
)
def test_a_decorator_needs_known_rules(rules: tuple[str, ...], complaint: str) -> None:
    with pytest.raises(BoundaryError, match=complaint):
        suppress_rule(*rules, reason="x")


def test_a_class_keyword_without_a_reason_names_the_class() -> None:
    with pytest.raises(LayerDeclarationError) as caught:

        class Service(AsyncService, suppress={"R3": ""}):
            pass

    line = line_of(test_a_class_keyword_without_a_reason_names_the_class, "class Service(")
    assert str(caught.value).startswith(
        f"class Service(..., suppress=...) at tests/audit/test_suppressions.py:{line} "
        "(Service) suppresses R3 without a reason"
    )


def test_a_table_entry_without_a_reason_names_the_entry(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"\[\[tool.fastapi-boundary.suppress\]\] #2 \(dependency"):
        legacy_config(
            tmp_path,
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nroute = "/x"\nreason = "ok"\n\n'
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\ndependency = "a.get_db"\n',
        )


# --- in code: at import time, for layers declared in code ------------------------------------


def test_a_suppressed_rule_does_not_stop_the_import() -> None:
    with pytest.raises(LayerDependencyError):

        class Unsuppressed(AsyncService):
            def __init__(self, repository: Repository) -> None: ...

    class Suppressed(AsyncService, suppress={"R3": "moving to the async driver in #812"}):
        def __init__(self, repository: Repository) -> None: ...

    @layer("async", suppress={"R2": "a thin adapter, rewritten next sprint"})
    def adapter() -> int:
        return 1

    @layer("async")
    @suppress_rule("R2", reason="the same, as a decorator below @layer")
    def other_adapter() -> int:
        return 1


def test_a_suppressed_endpoint_is_accepted_by_a_declared_router() -> None:
    router = AsyncRouter()
    with pytest.raises(RouteModeError, match="depends on sync repository Repository"):

        @router.get("/unsuppressed")
        async def unsuppressed(repository: Annotated[Repository, Depends()]) -> int:
            return 1

    assert [route.path for route in router.routes] == []  # type: ignore[attr-defined]  # rolled back

    @router.get("/suppressed")
    @suppress_rule("R3", reason="the export job is rewritten in #900")
    async def suppressed(repository: Annotated[Repository, Depends()]) -> int:
        return 1

    @router.get("/provided")
    async def through_a_suppressed_provider(
        repository: Annotated[Repository, Depends(get_repository)],
    ) -> int:
        return 1

    paths = [route.path for route in router.routes]  # type: ignore[attr-defined]
    assert paths == ["/suppressed", "/provided"]
    with pytest.raises(RouteModeError, match="R2"):

        @router.get("/wrong-rule")
        @suppress_rule("R3", reason="covers R3 only")
        def sync_endpoint() -> int:
            return 1


# --- in code: what check_app sets aside -------------------------------------------------------


@suppress_rule("R3", reason="legacy repository until #812")
class Legacy(SyncRepository):
    def get(self) -> int:
        return 1


@suppress_rule("R3", reason="the export job is rewritten in #900")
async def export(repository: Annotated[Repository, Depends()]) -> int:
    return 1


@suppress_rule("R2", "R3", reason="never needed: stale")
def get_clean() -> int:
    return 1


async def read(
    legacy: Annotated[Legacy, Depends()], clean: Annotated[int, Depends(get_clean)]
) -> int:
    return 1


async def other(repository: Annotated[Repository, Depends()]) -> int:
    return 1


@suppress_rule("R3", reason="the one provider of the sync repository, until #901")
def get_repository() -> Repository:
    return Repository()


async def provided(repository: Annotated[Repository, Depends(get_repository)]) -> int:
    return 1


def test_code_suppressions_cover_their_object_and_go_stale_when_fixed() -> None:
    app = FastAPI()
    app.get("/read")(read)
    app.get("/export")(export)
    app.get("/other")(other)
    app.get("/provided")(provided)
    report = check_app(app)
    assert [v.route for v in report.violations] == ["GET /other"]  # not suppressed
    found = adoption(report)
    covered = {(item.violation.route, item.suppression.reason) for item in found.suppressed}
    assert covered == {
        ("GET /read", "legacy repository until #812"),  # the layer it reaches
        ("GET /export", "the export job is rewritten in #900"),  # the endpoint
        ("GET /provided", "the one provider of the sync repository, until #901"),  # a Depends
    }
    assert [(s.rule, s.target.rsplit(".", 1)[-1]) for s in found.stale_suppressions] == [
        ("R2", "get_clean"),
        ("R3", "get_clean"),
    ]
    assert found.stale_suppressions[0].source.startswith("tests/audit/test_suppressions.py:")
    assert not found.ok
    assert verdict(report, "strict") == 1
    assert verdict(report, "warn") == 0


def test_a_dependency_suppression_covers_the_chains_through_it(tmp_path: Path) -> None:
    config = legacy_config(
        tmp_path,
        '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\n'
        'dependency = "tests.samples.legacy.main.get_users"\nreason = "one provider, fixed once"\n',
    )
    report = check_app(legacy.app, config=config)
    r3 = [v for v in report.violations if v.rule.code == "R3"]  # R5 has its own tests
    assert sorted(v.subject.name for v in r3) == ["BillingService"] * 2
    found = adoption(report)
    assert sorted(item.violation.route or "" for item in found.suppressed) == [
        "GET /items",
        "GET /users/{user_id}",
    ]
    assert found.stale_suppressions == []


def test_layer_and_route_suppressions_in_the_table(tmp_path: Path) -> None:
    config = legacy_config(
        tmp_path,
        '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\n'
        'layer = "tests.samples.legacy.services.*"\nreason = "billing is rewritten in #12"\n\n'
        '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nroute = "GET /users/*"\n'
        'reason = "read path, async soon"\n\n'
        '[[tool.fastapi-boundary.suppress]]\nrule = "R2"\nroute = "GET /items"\n'
        'reason = "wrong rule: stale"\n',
    )
    report = check_app(legacy.app, config=config)
    assert [v.route for v in report.violations if v.rule.code == "R3"] == ["GET /items"]
    found = adoption(report)
    assert sorted(item.suppression.reason for item in found.suppressed) == [
        "billing is rewritten in #12",  # the service's own R3
        "billing is rewritten in #12",  # and POST /charges, whose tree reaches it
        "read path, async soon",
    ]
    (stale,) = found.stale_suppressions
    assert stale.describe() == (
        f"R2 for route GET /items ({tmp_path / 'pyproject.toml'} "
        "[[tool.fastapi-boundary.suppress]] #3): wrong rule: stale"
    )
    assert "Suppressed: 3 violations" in found.lines()
    assert found.summary() == "3 violations suppressed, 1 stale entry"


def test_ignore_and_select_drop_whole_rules(tmp_path: Path) -> None:
    config = legacy_config(tmp_path)
    report = check_app(legacy.app, config=replace(config, ignore=frozenset({"R3"})))
    assert {v.rule.code for v in report.violations} == {"R5"}
    assert len(adoption(report).ignored) == 4
    report = check_app(legacy.app, config=replace(config, ignore=frozenset({"R3", "R5"})))
    assert report.violations == []
    assert adoption(report).ok
    report = check_app(legacy.app, config=replace(config, select=frozenset({"R2"})))
    assert report.violations == []
    report = check_app(legacy.app, config=replace(config, select=frozenset({"R3"})))
    assert len(report.violations) == 4


@pytest.mark.parametrize(
    ("spec", "matches"),
    [
        ("GET /items/{item_id}", True),
        ("/items/{item_id}", True),
        ("GET,POST /items/*", True),
        ("POST /items/{item_id}", False),
        ("GET /items", False),
        ("WEBSOCKET /items/{item_id}", False),
    ],
)
def test_route_specs(spec: str, matches: bool) -> None:
    route = RouteReport("http", "/items/{item_id}", ("GET", "HEAD"), None, None, None)
    assert matches_route(spec, route) is matches
