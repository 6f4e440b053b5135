"""The public surface: a complete, sorted __all__ and one exception hierarchy."""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import pkgutil

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
