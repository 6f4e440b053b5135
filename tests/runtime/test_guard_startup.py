"""The guard starts on any process: its start-up scan of loaded modules never raises nor imports.

Tried on a real app's suite, ``pytest --boundary=warn`` died with an INTERNALERROR at
session start: the scan read class attributes through the objects' own attribute
machinery, and libraries raise their own errors there (six's lazy modules, pyasn1's
schema objects, openai without numpy) or import modules as a side effect.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from fastapi_boundary import blocking
from fastapi_boundary._runtime.guard import guarded

HOSTILE = '''
"""Shaped like the libraries that broke the scan; reading anything here fails or imports."""


class LibraryError(Exception):
    pass


class Raising:  # a descriptor raising the library's own error (openai without numpy)
    def __get__(self, obj, owner):
        raise LibraryError("numpy is not installed")


class Lazy:  # six's MovedModule: an attribute read imports the module it stands for
    def __getattr__(self, name):
        import tabnanny

        return getattr(tabnanny, name)


class Schema:  # pyasn1's schema objects: any attribute read raises
    def __getattribute__(self, name):
        raise LibraryError(name)


class Meta(type):
    def __getattribute__(cls, name):
        if name in ("__module__", "__dict__", "__func__"):
            raise LibraryError(name)
        return super().__getattribute__(name)


class Host:
    raising = Raising()
    lazy = Lazy()
    schema = Schema()

    @property
    def broken(self):
        raise LibraryError("property")


class Guarded(metaclass=Meta):
    lazy = Lazy()


schema = Schema()
lazy = Lazy()


def __getattr__(name):  # a module-level __getattr__ that imports
    import tabnanny

    return getattr(tabnanny, name)
'''


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    (tmp_path / "hostile_library.py").write_text(textwrap.dedent(HOSTILE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tabnanny", raising=False)
    import hostile_library  # type: ignore[import-not-found]

    yield hostile_library
    sys.modules.pop("hostile_library", None)


def test_the_scan_survives_descriptors_that_raise_and_imports_nothing(
    hostile: ModuleType,
) -> None:
    with guarded("warn"):  # the first start may import the guard's own modules
        pass
    before = set(sys.modules)
    with guarded("warn"), guarded("strict"):
        pass
    assert set(sys.modules) - before == set()
    assert "tabnanny" not in sys.modules


def test_a_marked_method_beside_hostile_attributes_is_still_wrapped(
    hostile: ModuleType,
) -> None:
    class Legacy:
        raising = hostile.Host.__dict__["raising"]
        lazy = hostile.lazy

        @blocking
        def fetch(self) -> int:
            return 1

    setattr(hostile, "Legacy", Legacy)  # noqa: B010  # as if the library defined it
    Legacy.__module__ = hostile.__name__
    original = Legacy.__dict__["fetch"]
    with guarded("warn"):
        assert Legacy.__dict__["fetch"] is not original  # re-bound to the guard's wrapper
    assert Legacy.__dict__["fetch"] is original
    assert "tabnanny" not in sys.modules
