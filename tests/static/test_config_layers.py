"""Layers declared in ``[tool.fastapi-boundary.layers]``, seen by real mypy runs (``mypy.api``).

The plugin reads the same table from the same ``pyproject.toml`` as the CLI
and ``install()``: classes it matches are layers as if they were declared,
and the table is part of mypy's cache.  The projects here import neither
FastAPI nor the library, as an app that has not adopted it yet.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api

from fastapi_boundary._common.config import LayerRule
from fastapi_boundary._static.config import PluginConfig, report_data

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # real mypy runs

_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$")

LAYERS = """\
[tool.fastapi-boundary.layers]
"shop.repositories.*" = "sync repository"
"shop.repositories.Events" = "async repository"
"shop.services.Billing" = "async service"
"""

SOURCES = {
    "shop/__init__.py": "",
    "shop/repositories.py": """\
        class Users:
            def __init__(self, dsn: str) -> None:
                self.dsn = dsn

            def get(self, user_id: int) -> int:
                return user_id

            async def fetch(self, user_id: int) -> int:
                return user_id


        class Events:
            async def record(self, name: str) -> None:
                return None
        """,
    "shop/services.py": """\
        from shop.repositories import Events, Users


        class Billing:
            def __init__(self, users: Users, events: Events) -> None:
                self.users = users
                self.events = events

            async def charge(self, user_id: int) -> int:
                await self.events.record("charge")
                return self.users.get(user_id)


        class Reports:
            def __init__(self, users: Users) -> None:
                self.users = users

            async def build(self) -> int:
                return 1
        """,
    "shop/main.py": """\
        from shop.repositories import Users


        async def handler(users: Users) -> int:
            return users.get(1)


        def sync_handler(users: Users) -> int:
            return users.get(1)
        """,
}

EXPECTED = [
    ("shop/main.py", 5, "boundary-blocking-call"),
    ("shop/repositories.py", 8, "boundary-layer-mode"),
    ("shop/services.py", 5, "boundary-layer-dependency"),
    ("shop/services.py", 11, "boundary-blocking-call"),
]


def project(root: Path, table: str = LAYERS, config: str = "pyproject") -> Path:
    """The shop, with the plugin configured in ``pyproject.toml`` or in a ``mypy.ini``."""
    for name, text in SOURCES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    mypy_section = (
        '[tool.mypy]\nplugins = ["fastapi_boundary.mypy"]\n\n' if config == "pyproject" else ""
    )
    (root / "pyproject.toml").write_text(f"{mypy_section}{table}")
    if config == "pyproject":
        return root / "pyproject.toml"
    (root / "mypy.ini").write_text("[mypy]\nplugins = fastapi_boundary.mypy\n")
    return root / "mypy.ini"


def run(root: Path, config_file: Path, cache: Path) -> tuple[list[tuple[str, int, str]], str, int]:
    stdout, stderr, status = api.run(
        [
            *("--config-file", str(config_file), "--cache-dir", str(cache)),
            *("--no-error-summary", str(root / "shop")),
        ]
    )
    errors = []
    for line in stdout.splitlines():
        found = _ERROR.match(line)
        if found:
            file = Path(found["file"]).resolve().relative_to(root.resolve()).as_posix()
            errors.append((file, int(found["line"]), found["code"]))
    return sorted(errors), stdout + stderr, status


def test_configured_classes_are_layers_to_the_plugin(tmp_path: Path) -> None:
    config_file = project(tmp_path)
    errors, output, status = run(tmp_path, config_file, tmp_path / "cache")
    assert errors == EXPECTED, output
    assert status == 1
    assert (
        'shop/services.py:5: error: Billing (async service) takes "Users" (sync repository) '
        'through __init__ parameter "users"'
    ) in output
    assert '"Users.fetch" is an async def but Users is a sync repository' in output
    # a warm cache gives the same answer
    assert run(tmp_path, config_file, tmp_path / "cache")[0] == EXPECTED


def test_the_table_next_to_a_mypy_ini_is_read(tmp_path: Path) -> None:
    config_file = project(tmp_path, config="ini")
    errors, output, _ = run(tmp_path, config_file, tmp_path / "cache")
    assert errors == EXPECTED, output


def test_the_table_is_part_of_the_cache(tmp_path: Path) -> None:
    config_file = project(tmp_path)
    cache = tmp_path / "cache"
    assert run(tmp_path, config_file, cache)[0] == EXPECTED
    project(tmp_path, LAYERS.replace('"async service"', '"sync service"'))
    errors, output, _ = run(tmp_path, config_file, cache)
    assert errors == [
        ("shop/main.py", 5, "boundary-blocking-call"),
        ("shop/repositories.py", 8, "boundary-layer-mode"),
        ("shop/services.py", 5, "boundary-layer-dependency"),  # now it takes an async one
        ("shop/services.py", 9, "boundary-layer-mode"),  # charge: async in a sync service
        ("shop/services.py", 11, "boundary-blocking-call"),  # still an async def
    ], output
    project(tmp_path, "")
    assert run(tmp_path, config_file, cache)[0] == []


def test_a_mistake_in_the_table_stops_mypy_with_the_key_and_the_file(tmp_path: Path) -> None:
    config_file = project(tmp_path, LAYERS + '"shop.Other" = "sync repositry"\n')
    _, output, status = run(tmp_path, config_file, tmp_path / "cache")
    assert status == 2
    assert "fastapi-boundary mypy plugin:" in output
    assert "[tool.fastapi-boundary.layers] 'shop.Other' has unknown role 'sync repositry'" in output
    assert "pyproject.toml" in output


def test_report_config_data_holds_the_layers() -> None:
    config = PluginConfig(layers=(LayerRule("shop.*", "sync", "repository"),))
    assert report_data(config)["layers"] == [["shop.*", "sync", "repository"]]
