"""The public surface: a complete, sorted __all__ and one exception hierarchy."""

from __future__ import annotations

import ast
import importlib
import importlib.resources
import inspect
import pkgutil
from pathlib import Path

import pytest

import fastapi_boundary
from fastapi_boundary import BoundaryError
from tests.helpers import run_python


def test_all_is_sorted_and_complete() -> None:
    names = fastapi_boundary.__all__
    assert list(names) == sorted(names)
    public = {
        name
        for name, value in vars(fastapi_boundary).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public <= set(names)
    for name in names:
        assert hasattr(fastapi_boundary, name), name


def _type_checking_imports() -> dict[str, str]:
    """Public name -> module, as the ``TYPE_CHECKING`` block of ``__init__`` declares them."""
    tree = ast.parse(Path(fastapi_boundary.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "_TYPE_CHECKING"
    )
    declared: dict[str, str] = {}
    for statement in block.body:
        assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
        assert statement.level == 1 and statement.module, ast.unparse(statement)
        for alias in statement.names:
            declared[alias.asname or alias.name] = statement.module
    return declared


def test_the_lazy_map_is_the_type_checking_block() -> None:
    """One source of truth: what mypy sees is what the lazy loader serves, and __all__."""
    declared = _type_checking_imports()
    assert declared == fastapi_boundary._EXPORTS
    assert set(fastapi_boundary.__all__) == set(declared) | {"__version__"}
    source = Path(fastapi_boundary.__file__).read_text()
    for public, private in fastapi_boundary._RENAMED.items():
        assert f"import {private} as {public}" in source


@pytest.mark.parametrize("name", sorted(set(fastapi_boundary.__all__) - {"__version__"}))
def test_every_public_name_is_fastapi_boundarys_own(name: str) -> None:
    value = getattr(fastapi_boundary, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == "fastapi_boundary", value


def test_introspection_helpers_have_their_own_module() -> None:
    from fastapi_boundary import introspection

    for name in introspection.__all__:
        assert not hasattr(fastapi_boundary, name), name
        assert getattr(introspection, name) is not None


def test_every_exception_derives_from_boundary_error() -> None:
    for info in pkgutil.walk_packages(fastapi_boundary.__path__, "fastapi_boundary."):
        if info.name == "fastapi_boundary.__main__":
            continue
        module = importlib.import_module(info.name)
        for _, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Exception)
                and not issubclass(value, Warning)
                and value.__module__.startswith("fastapi_boundary")
            ):
                assert issubclass(value, BoundaryError), value


def test_package_is_typed() -> None:
    assert importlib.resources.files("fastapi_boundary").joinpath("py.typed").is_file()


@pytest.mark.slow
def test_importing_the_package_or_its_plugins_imports_no_framework() -> None:
    """The pytest plugin loads in every test run: it must not import FastAPI or anyio."""
    code = (
        "import sys, fastapi_boundary, fastapi_boundary.pytest_plugin; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'anyio', 'pydantic') "
        "if m in sys.modules))"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    assert fastapi_boundary.enable_guard.__name__ == "enable"
    assert "SyncService" in dir(fastapi_boundary)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fastapi_boundary.nope
