"""``[tool.fastapi-boundary]``: read, validated with the key and the file, and its layers.

The layers table makes classes layers without touching them: the samples in
``tests/samples/legacy`` subclass nothing from the library, have providers
without return annotations and a class-based view, and are found by
``check_app`` only through the configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_boundary import BoundaryConfig, BoundaryError, Rule, check_app, load_config
from fastapi_boundary._audit import config_layers
from fastapi_boundary._common import config as config_module
from fastapi_boundary._common.config import LayerRule, find_pyproject
from fastapi_boundary.cli import main
from fastapi_boundary.introspection import declared_layer
from tests.samples.legacy import LAYERS
from tests.samples.legacy import main as legacy
from tests.samples.legacy.repositories import AuditRepository, UserRepository
from tests.samples.legacy.services import BillingService


def write(folder: Path, table: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "shop"\n\n[tool.fastapi-boundary]\n{table}')
    return path


def refused(folder: Path, table: str) -> str:
    with pytest.raises(BoundaryError) as caught:
        load_config(write(folder, table))
    return str(caught.value)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_rule_codes_are_the_rules() -> None:
    assert dict(config_module.RULES) == {rule.code: rule.slug for rule in Rule}


def test_every_key_is_read_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'app = "shop.main:app"\napp-dir = "src"\nfactory = true\nformat = "json"\n'
        'baseline = "boundary-baseline.json"\npolicy = "warn"\nselect = ["R2", "r3"]\n'
        'ignore = ["callable-mode"]\n\n'
        "[tool.fastapi-boundary.layers]\n"
        '"shop.repositories.*" = "sync repository"\n'
        '"shop.repositories.legacy.*" = "async repository"\n'
        '"shop.services.Billing" = "async service"\n'
        '"*Gateway" = { mode = "async", kind = "gateway" }\n\n'
        "[[tool.fastapi-boundary.suppress]]\n"
        'rule = ["R3", "R2"]\nroute = "GET /reports"\nreason = "rewrite in #812"\n\n'
        "[tool.fastapi-boundary.guard]\n"
        'mode = "warn"\nexempt = { "time.sleep" = "legacy client" }\nthreshold = 0.05\n',
    )
    config = load_config(path)
    assert config.present
    assert (config.app, config.factory, config.format, config.policy) == (
        "shop.main:app",
        True,
        "json",
        "warn",
    )
    assert config.app_dir == tmp_path / "src"
    assert config.baseline == tmp_path / "boundary-baseline.json"
    assert config.select == frozenset({"R2", "R3"})
    assert config.ignore == frozenset({"R2"})
    assert not config.reports("R2")
    assert config.reports("R3")
    assert not config.reports("R1")  # not selected
    # the most specific pattern first: exact names, then the longest
    assert [rule.pattern for rule in config.layers] == [
        "shop.services.Billing",
        "shop.repositories.legacy.*",
        "shop.repositories.*",
        "*Gateway",
    ]
    assert config.layers[3] == LayerRule("*Gateway", "async", "gateway")
    assert [(s.rule, s.scope, s.target) for s in config.suppress] == [
        ("R3", "route", "GET /reports"),
        ("R2", "route", "GET /reports"),
    ]
    assert config.suppress[0].source == f"{path} [[tool.fastapi-boundary.suppress]] #1"
    assert config.guard.mode == "warn"
    assert config.guard.exempt == (("time.sleep", "legacy client"),)
    assert config.guard.threshold == 0.05
    assert config.adopting


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        (
            'polcy = "warn"\n',
            "unknown key 'polcy' in [tool.fastapi-boundary]. Did you mean 'policy'? "
            "Fix: use only app, app-dir, baseline,",
        ),
        ('policy = "wran"\n', "policy must be one of strict, warn, off; got 'wran'. Did you"),
        ('app = "shop.main"\n', "app must be 'module:attribute'; got 'shop.main'"),
        ('ignore = ["R9"]\n', "ignore: unknown rule 'R9'. Fix: use one of R1, R2, R3, R5."),
        ("factory = 1\n", "factory must be true or false; got 1"),
        (
            '[tool.fastapi-boundary.layers]\n"shop.Repo" = "sync repositry"\n',
            "[tool.fastapi-boundary.layers] 'shop.Repo' has unknown role 'sync repositry'. "
            "Did you mean 'repository'?",
        ),
        (
            '[tool.fastapi-boundary.layers]\n"shop.Repo" = "blocking repository"\n',
            "'shop.Repo' has unknown mode 'blocking'. Fix: start the role with sync or async",
        ),
        (
            '[tool.fastapi-boundary.layers]\n"shop..Repo" = "sync"\n',
            "'shop..Repo' is not a class pattern",
        ),
        ('[tool.fastapi-boundary.layers]\n"Repo" = "sync"\n', "'Repo' names no module"),
        (
            '[tool.fastapi-boundary.layers]\n"shop.[ab" = "sync"\n',
            "'shop.[ab' has an unbalanced [ ]",
        ),
        (
            '[tool.fastapi-boundary.layers]\n"shop.X" = { mode = "sync", knd = "x" }\n',
            "unknown key 'knd' in [tool.fastapi-boundary.layers.'shop.X']. Did you mean 'kind'?",
        ),
        (
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nlayer = "shop.X"\n',
            "[[tool.fastapi-boundary.suppress]] #1 (layer 'shop.X') needs a reason",
        ),
        (
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nlayer = "shop.X"\nreason = " "\n',
            "[[tool.fastapi-boundary.suppress]] #1 (layer 'shop.X') needs a reason",
        ),
        (
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nreason = "x"\n',
            "must name exactly one of route, layer or dependency; got none",
        ),
        (
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nroute = "/x"\nlayer = "a.B"\n'
            'reason = "x"\n',
            "must name exactly one of route, layer or dependency; got route, layer",
        ),
        (
            '[[tool.fastapi-boundary.suppress]]\nrule = "R3"\nrout = "/x"\nreason = "x"\n',
            "unknown key 'rout'. Did you mean 'route'?",
        ),
        ('[tool.fastapi-boundary.guard]\nmod = "strict"\n', "Did you mean 'mode'?"),
        (
            '[tool.fastapi-boundary.guard]\nexempt = { "time.sleep" = "" }\n',
            "exempt must be a table of name = reason, each with a reason",
        ),
    ],
)
def test_a_mistake_names_the_key_and_the_file(tmp_path: Path, table: str, complaint: str) -> None:
    message = refused(tmp_path, table)
    assert complaint in message
    assert str(tmp_path / "pyproject.toml") in message or message.startswith("pyproject.toml")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    assert "is not valid TOML" in refused(tmp_path, "app = \n")


def test_the_file_is_found_from_the_working_folder_upward(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(in_tmp, 'app = "shop.main:app"\n')
    nested = in_tmp / "src" / "shop"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert find_pyproject() == in_tmp / "pyproject.toml"
    config = load_config()
    assert config.app == "shop.main:app"
    # named relative to the working folder when below it, else in full
    assert config.source == f"{in_tmp / 'pyproject.toml'} [tool.fastapi-boundary]"
    monkeypatch.chdir(in_tmp)
    assert load_config().source == "pyproject.toml [tool.fastapi-boundary]"


def test_no_file_or_no_table_is_an_empty_configuration(in_tmp: Path) -> None:
    assert find_pyproject() is None or not load_config().present
    (in_tmp / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    config = load_config()
    assert config == BoundaryConfig(path=in_tmp / "pyproject.toml")
    assert not config.present
    assert not config.adopting


def test_the_table_is_read_once_per_modification(tmp_path: Path) -> None:
    path = write(tmp_path, 'policy = "warn"\n')
    first = load_config(path)
    assert load_config(path) is first
    write(tmp_path, 'policy = "strict"   # edited\n')
    assert load_config(path).policy == "strict"


def test_without_a_toml_parser_only_a_present_table_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.10 without tomli: a project without the table must not be bothered."""
    monkeypatch.setattr(config_module, "_toml_loads", lambda: None)
    plain = tmp_path / "plain" / "pyproject.toml"
    plain.parent.mkdir()
    plain.write_text('[tool.fastapi-boundary-mypy]\ndisable = ["boundary-offload"]\n')
    assert not load_config(plain).present
    message = refused(tmp_path, 'policy = "warn"\n')
    assert "needs the tomli package. Fix: pip install tomli, or use Python 3.11" in message


# --- layers declared in the configuration ----------------------------------------------------


def legacy_config(folder: Path, extra: str = "") -> BoundaryConfig:
    return load_config(write(folder, extra + "\n" + LAYERS))


def test_an_existing_app_gets_the_structural_rules_without_editing_a_class(
    tmp_path: Path,
) -> None:
    # nothing is a layer to the library: only the sync driver UserRepository holds is seen
    unconfigured = check_app(legacy.app).violations
    assert {(v.rule.code, v.other.name if v.other else "") for v in unconfigured} == {
        ("R3", "Connection")
    }
    report = check_app(legacy.app, config=legacy_config(tmp_path))
    found = sorted(
        (v.rule.code, v.subject.name, v.other.name if v.other else "")
        for v in report.violations
        if v.rule.code == "R3"  # R5, the calls to the sync repository, has its own tests
    )
    assert found == [
        ("R3", "BillingService", "UserRepository"),  # the service itself (its __init__)
        ("R3", "BillingService", "UserRepository"),  # in POST /charges' tree
        ("R3", "ItemsView instance", "UserRepository"),  # the class-based view
        ("R3", "read_user", "UserRepository"),  # found through the parameter's annotation
    ]
    routes = {route.label: route for route in report.routes}
    legacy_route = routes["GET /legacy/{user_id}"].violations  # not annotated: its body says
    assert [v.rule.code for v in legacy_route] == ["R5"]
    assert routes["GET /reports"].violations == []  # sync endpoint, sync repository
    assert routes["POST /audit"].violations == []  # the exact name wins over the pattern
    layer = routes["GET /users/{user_id}"].endpoint
    assert layer is not None
    (users,) = layer.children
    assert (users.layer_name, users.layer and users.layer.role) == (
        "UserRepository",
        "sync repository",
    )


def test_the_configuration_is_active_only_for_its_audit(tmp_path: Path) -> None:
    check_app(legacy.app, config=legacy_config(tmp_path))
    assert config_layers.active_rules() == ()
    assert config_layers.layer_of(UserRepository) is None
    found = check_app(legacy.app).violations  # the audit's caches were cleared
    assert [v for v in found if v.other is not None and v.other.name == "UserRepository"] == []


def test_a_declaration_in_code_wins_and_functions_are_never_matched(tmp_path: Path) -> None:
    from fastapi_boundary import SyncService

    class Declared(SyncService):
        pass

    class Gateway:
        async def __call__(self) -> int:
            return 1

    rules = (LayerRule("*", "async", "service"),)
    with config_layers.using(rules):
        info, owner = config_layers.layer_of(Declared) or (None, None)
        assert info is not None and info.role == "sync service"
        assert owner is Declared
        assert config_layers.layer_of(legacy.get_users) is None
        found = config_layers.layer_of(Gateway())  # a callable-instance dependency
        assert found is not None and found[1] is Gateway
        assert config_layers.layer_of(AuditRepository()) is None  # not callable: no dependency
    assert declared_layer(Gateway) is None  # nothing was written on the class


def test_subclasses_of_a_configured_class_are_layers_too(tmp_path: Path) -> None:
    class Cached(BillingService):
        async def refresh(self) -> None:
            return None

    rules = (LayerRule("tests.samples.legacy.services.BillingService", "async", "service"),)
    with config_layers.using(rules):
        found = config_layers.layer_of(Cached)
    assert found is not None and found[1] is Cached and found[0].role == "async service"


# --- the command line reads the same table ---------------------------------------------------


def test_a_bare_check_audits_the_app_of_the_table(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_tmp, f'app = "tests.samples.legacy.main:app"\n{LAYERS}')
    assert main(["check", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("8 findings affecting 4 of 6 routes")
    assert "async endpoint read_user" in out
    assert main(["check", "--quiet", "--policy", "warn"]) == 0
    assert "policy warn: the findings are reported, not failed" in capsys.readouterr().err
    write(in_tmp, f'app = "tests.samples.legacy.main:app"\npolicy = "warn"\n{LAYERS}')
    assert main(["check", "--quiet"]) == 0
    assert main(["check", "--quiet", "--policy", "strict"]) == 1  # the command line wins


def test_a_mistake_in_the_table_stops_the_command(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_tmp, 'app = "tests.samples.legacy.main:app"\nbaselin = "b.json"\n')
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert (
        "error: pyproject.toml: unknown key 'baselin' in [tool.fastapi-boundary]. "
        "Did you mean 'baseline'?"
    ) in err
    write(in_tmp, 'format = "yaml"\n')
    assert main(["check", "tests.samples.legacy.main:app"]) == 2
    assert "format 'yaml' is not one of table, json" in capsys.readouterr().err


def test_without_an_app_the_command_says_where_to_name_it(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_tmp, 'policy = "warn"\n')
    assert main(["check"]) == 2
    assert (
        "no app to check: pass it as module:attribute, or set app in "
        "pyproject.toml [tool.fastapi-boundary]"
    ) in capsys.readouterr().err
