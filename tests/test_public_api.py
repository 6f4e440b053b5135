"""The public surface: a complete, sorted __all__ and one exception hierarchy."""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import pkgutil
import subprocess
import sys

import pytest

import fastapi_boundary
from fastapi_boundary import BoundaryError


def test_all_is_sorted_and_complete() -> None:
    names = fastapi_boundary.__all__
    assert list(names) == sorted(names)
    public = {
        name
        for name, value in vars(fastapi_boundary).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public <= set(names) | {"CheckMode"}
    for name in names:
        assert hasattr(fastapi_boundary, name), name


def test_every_exception_derives_from_boundary_error() -> None:
    for info in pkgutil.iter_modules(fastapi_boundary.__path__, "fastapi_boundary."):
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


def test_importing_the_package_or_its_plugins_imports_no_framework() -> None:
    """The pytest plugin loads in every test run: it must not import FastAPI or anyio."""
    code = (
        "import sys, fastapi_boundary, fastapi_boundary.pytest_plugin; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'anyio', 'pydantic') "
        "if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    assert fastapi_boundary.enable_guard.__name__ == "enable"
    assert "SyncService" in dir(fastapi_boundary)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fastapi_boundary.nope
