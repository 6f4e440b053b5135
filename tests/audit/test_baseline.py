"""The audit's baseline: known findings pass, new ones fail, fixed ones are stale and fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fastapi_boundary import BoundaryConfig, BoundaryError, check_app, load_config
from fastapi_boundary._audit.adoption import adoption_of, update_baseline, verdict
from fastapi_boundary._audit.baseline import load_baseline
from fastapi_boundary._audit.findings import group_findings
from fastapi_boundary.cli import main
from tests.samples.legacy import LAYERS
from tests.samples.legacy.main import make_app


def adopting(folder: Path) -> BoundaryConfig:
    path = folder / "pyproject.toml"
    path.write_text(f'[tool.fastapi-boundary]\nbaseline = "boundary-baseline.json"\n{LAYERS}')
    return load_config(path)


def test_round_trip(tmp_path: Path) -> None:
    config = adopting(tmp_path)
    assert config.baseline == tmp_path / "boundary-baseline.json"

    # no baseline file yet: every finding is new
    first = check_app(make_app(), config=config)
    fingerprints = [finding.fingerprint for finding in group_findings(first)]
    assert len(fingerprints) == 8  # 4 causes, each R3 (the wiring) and R5 (the call it makes)
    assert verdict(first, "strict") == 1

    written = update_baseline(first, config.baseline)
    assert sorted(entry.fingerprint for entry in written) == sorted(fingerprints)
    document = json.loads(config.baseline.read_text())
    assert document["version"] == 1
    assert [set(row) for row in document["findings"]] == [
        {"fingerprint", "rule", "file", "summary"}
    ] * 8
    assert [row["file"] for row in document["findings"]] == sorted(
        row["file"] for row in document["findings"]
    )

    # with it: every known finding passes
    known = check_app(make_app(), config=config)
    assert known.violations == []
    adoption = adoption_of(known)
    assert adoption is not None
    assert sorted(f.fingerprint for f in adoption.baselined) == sorted(fingerprints)
    assert adoption.ok
    assert verdict(known, "strict") == 0
    assert adoption.summary() == "8 findings known to the baseline"

    # the class-based view is fixed: its entry is stale and fails until removed
    fixed = check_app(make_app(fixed=True), config=config)
    assert fixed.violations == []
    adoption = adoption_of(fixed)
    assert adoption is not None
    stale = adoption.stale_baseline
    assert [entry.rule for entry in stale] == ["R3", "R5"]
    assert all("ItemsView" in entry.summary for entry in stale)
    assert verdict(fixed, "strict") == 1
    assert verdict(fixed, "warn") == 0
    assert any("ItemsView instance" in line for line in adoption.lines())

    # a new cause fails, the known ones still pass
    new = check_app(make_app(new=True), config=config)
    assert [(v.rule.code, v.route) for v in new.violations] == [
        ("R3", "GET /export"),
        ("R5", "GET /export"),
    ]
    assert verdict(new, "strict") == 1

    # updating the baseline drops the stale entry and takes the new finding
    update_baseline(check_app(make_app(fixed=True, new=True), config=config), config.baseline)
    again = check_app(make_app(fixed=True, new=True), config=config)
    assert verdict(again, "strict") == 0
    assert len(load_baseline(config.baseline)) == 8


def test_a_broken_baseline_says_how_to_rewrite_it(tmp_path: Path) -> None:
    config = adopting(tmp_path)
    assert config.baseline is not None
    config.baseline.write_text("{not json")
    with pytest.raises(BoundaryError, match=r"fastapi-boundary check --update-baseline"):
        check_app(make_app(), config=config)
    config.baseline.write_text(json.dumps({"version": 1, "exemptions": []}))
    with pytest.raises(BoundaryError, match=r"it is the guard's baseline"):
        check_app(make_app(), config=config)
    config.baseline.write_text(json.dumps({"version": 1, "findings": [{"rule": "R3"}]}))
    with pytest.raises(BoundaryError, match=r"an entry has no fingerprint"):
        check_app(make_app(), config=config)


def test_the_command_line_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.fastapi-boundary]\napp = "tests.samples.legacy.main:app"\n{LAYERS}'
    )
    assert main(["check", "-q", "--baseline", "known.json"]) == 1  # no file yet: all new
    capsys.readouterr()
    assert main(["check", "-q", "--update-baseline"]) == 2  # no file named anywhere
    assert "--update-baseline needs a file to write" in capsys.readouterr().err

    assert main(["check", "-q", "--baseline", "known.json", "--update-baseline"]) == 0
    assert "baseline written: known.json (8 findings)" in capsys.readouterr().err
    assert main(["check", "-q", "--baseline", "known.json"]) == 0
    assert "8 findings known to the baseline" in capsys.readouterr().out

    assert main(["check", "-q", "--baseline", "known.json", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    assert len(document["adoption"]["baselined"]) == 8

    # a stale entry fails, in every format
    entries = json.loads((tmp_path / "known.json").read_text())
    entries["findings"].append({"fingerprint": "0" * 32, "rule": "R3", "summary": "fixed"})
    (tmp_path / "known.json").write_text(json.dumps(entries))
    assert main(["check", "-q", "--baseline", "known.json"]) == 1
    out = capsys.readouterr().out
    assert "1 stale entry" in out
    assert "baseline known.json: R3 fixed" in out
    assert main(["check", "-q", "--baseline", "known.json", "--format", "github"]) == 1
    assert "::error title=fastapi-boundary stale entry::baseline known.json" in (
        capsys.readouterr().out
    )
