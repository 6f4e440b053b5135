"""Every fullname the mypy plugin looks for names something defined there.

mypy names a definition by the module that defines it, so moving or renaming
a private module (or moving a function and re-exporting it from the old
module) would otherwise blind the plugin without a single failing check.
The names are collected from ``_static.fullnames``'s data (strings,
mappings, collections), never listed here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator, Mapping
from types import ModuleType

import pytest

from fastapi_boundary._static import fullnames


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from _strings(item)


def _fullnames() -> list[str]:
    """The dotted names among the module's public data (``LIB`` and plain names are not)."""
    found: set[str] = set()
    for name, value in vars(fullnames).items():
        if name.startswith("_") or isinstance(value, ModuleType) or callable(value):
            continue
        found.update(s for s in _strings(value) if "." in s and " " not in s)
    return sorted(found)


FULLNAMES = _fullnames()
LIBRARY = [name for name in FULLNAMES if name.startswith(f"{fullnames.LIB}.")]


def _module_and_rest(fullname: str) -> tuple[ModuleType, list[str]]:
    """The longest importable module prefix of ``fullname``, and the attribute path after it."""
    parts = fullname.split(".")
    for split in range(len(parts), 0, -1):
        try:
            return importlib.import_module(".".join(parts[:split])), parts[split:]
        except ModuleNotFoundError:
            continue
    pytest.fail(f"{fullname}: no module of it can be imported")


def _top_level_definitions(module: ModuleType) -> set[str]:
    """The names a module's source defines (``def``, ``class``, assignment), not imports.

    Blocks at the top level count (``if TYPE_CHECKING:``, ``try:``): the
    marker types exist for mypy only.
    """
    found: set[str] = set()
    statements = list(ast.parse(inspect.getsource(module)).body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            statements.extend([*node.body, *node.orelse])
    return found


def _check_library(fullname: str) -> None:
    """Defined (not re-exported) by the module mypy would name, as mypy's fullname says."""
    module, rest = _module_and_rest(fullname)
    if not rest:
        return  # a module
    assert len(rest) == 1, f"{fullname}: there is no module {module.__name__}.{rest[0]}"
    assert rest[0] in _top_level_definitions(module), (
        f"{fullname}: {module.__name__} does not define {rest[0]!r} (moved, renamed, or only "
        f"re-exported there: mypy names a definition by the module that defines it)"
    )


def _check_framework(fullname: str) -> None:
    """Exists, and is defined where the name says (``__module__``/``__qualname__``)."""
    module, rest = _module_and_rest(fullname)
    found: object = module
    for index, attribute in enumerate(rest):
        assert hasattr(found, attribute), f"{fullname}: no {'.'.join(rest[: index + 1])!r}"
        found = getattr(found, attribute)
    defined_in = getattr(found, "__module__", None)
    qualname = getattr(found, "__qualname__", None)
    if rest and isinstance(defined_in, str) and isinstance(qualname, str):
        assert f"{defined_in}.{qualname}" == fullname, f"{fullname}: defined in {defined_in}"


def test_the_names_are_collected_from_the_module() -> None:
    assert fullnames.LAYER in LIBRARY and fullnames.ASYNC_PROXY in LIBRARY
    assert set(fullnames.LAYER_BASES) <= set(LIBRARY)
    assert fullnames.MARKER_MODULE in LIBRARY


@pytest.mark.parametrize("fullname", LIBRARY)
def test_every_library_fullname_is_defined_where_it_says(fullname: str) -> None:
    _check_library(fullname)


@pytest.mark.parametrize("fullname", [name for name in FULLNAMES if name not in LIBRARY])
def test_every_framework_fullname_is_defined_where_it_says(fullname: str) -> None:
    """FastAPI's, Starlette's, anyio's and the standard library's (the test dependencies)."""
    _check_framework(fullname)


def test_the_marker_decorators_live_where_the_marker_types_are_loaded() -> None:
    """The plugin loads the marker types with the modules that define the decorators."""
    for decorator in fullnames.MARKER_TYPES:
        assert decorator.rpartition(".")[0] in fullnames.MARKER_HOSTS
