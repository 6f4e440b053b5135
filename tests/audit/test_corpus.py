"""The audit over the detection corpus (``benchmarks/corpus``): the benchmark's claim, kept.

``bench_detection.py`` reports every tool's recall on the corpus; this test holds the
audit's part of it on every run: each function the manifest labels blocking is an R5
finding naming it, and no correct twin is one.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from fastapi_boundary import check_app
from fastapi_boundary._common.sites import site_of
from fastapi_boundary._common.violations import Rule, Violation
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The manifest module, with the corpus importable (its files in a temporary folder)."""
    data = tmp_path_factory.mktemp("corpus-data")
    before = os.environ.get("MEDIA_DATA_DIR")
    os.environ["MEDIA_DATA_DIR"] = str(data)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module("corpus.manifest")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        if before is None:
            os.environ.pop("MEDIA_DATA_DIR", None)
        else:
            os.environ["MEDIA_DATA_DIR"] = before


@pytest.fixture(scope="module")
def findings(corpus: Any) -> dict[str, list[Violation]]:
    """The R5 findings of every corpus app, by the site of the function on the loop."""
    here = os.getcwd()
    os.chdir(ROOT)  # sites are relative to the working directory
    try:
        found: dict[str, list[Violation]] = {}
        for app in sorted({case.app for case in corpus.CASES}):
            for violation in check_app(corpus.resolve(app)).violations:
                if violation.rule is Rule.R5:
                    found.setdefault(str(violation.subject.site), []).append(violation)
        sites = {
            case.function: str(site_of(corpus.resolve(case.function))) for case in corpus.CASES
        }
    finally:
        os.chdir(here)
    return {function: found.get(site, []) for function, site in sites.items()}


def test_the_manifest_is_a_corpus(corpus: Any) -> None:
    cases = corpus.CASES
    assert len(cases) >= 40
    assert len({case.shape for case in cases}) >= 12
    assert sum(case.blocking for case in cases) * 2 <= len(cases) + 2  # about half twins
    assert len({case.function for case in cases}) == len(cases)


def test_every_blocking_function_is_found(
    corpus: Any, findings: dict[str, list[Violation]]
) -> None:
    missed = [c.function for c in corpus.CASES if c.blocking and not findings[c.function]]
    assert missed == []
    for case in corpus.CASES:
        if case.blocking:
            name = case.function.partition(":")[2]
            for violation in findings[case.function]:
                assert violation.subject.name.endswith(name.rpartition(".")[2])
                assert "blocks the event loop" in violation.cause_summary
                assert violation.fix


def test_no_twin_is_flagged(corpus: Any, findings: dict[str, list[Violation]]) -> None:
    flagged = {
        c.function: [v.cause_summary for v in findings[c.function]]
        for c in corpus.CASES
        if not c.blocking and findings[c.function]
    }
    assert flagged == {}


def test_findings_show_the_chain_through_helpers(findings: dict[str, list[Violation]]) -> None:
    (follow,) = findings["conduit.api:follow"]
    assert [link.partition(" (")[0] for link in follow.cause_chain] == [
        "follow",
        "follow_user",
        "get_user_by_username",
        "Session.scalars",
    ]
    (permissions,) = findings["dispatch.permissions:PermissionsDependency.__call__"]
    assert "ApiKeyPermission.has_required_permissions" in permissions.cause_chain[1]
    assert permissions.cause_chain[-1].startswith("Session.scalar (benchmarks/corpus/dispatch/")
