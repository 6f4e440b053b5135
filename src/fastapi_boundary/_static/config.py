"""The plugin's configuration: ``[fastapi-boundary-mypy]`` (``[tool.fastapi-boundary-mypy]``).

Read once per build, validated (a mistake stops mypy with the file, the key
and the fix), and reported to mypy's cache with everything else that changes
results.  The project's ``[tool.fastapi-boundary.layers]`` table is read too
(`layers_of`), from the same ``pyproject.toml`` the CLI and ``install()``
read: classes it matches are layers for the plugin as if they were declared.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from configparser import ConfigParser
from dataclasses import dataclass
from typing import Any, Final

from ..__about__ import __version__
from .._common import catalog
from .._common.config import LayerRule, find_pyproject
from .._common.config import load_config as load_table
from . import compat
from .errors import ERROR_CODES

__all__ = ["CONFIG_SECTION", "PluginConfig", "catalog_digest", "load_config", "report_data"]

CONFIG_SECTION: Final = "fastapi-boundary-mypy"
CONFIG_KEYS: Final = frozenset({"blocking", "disable", "offloads"})


@dataclass(frozen=True)
class PluginConfig:
    """The ``[fastapi-boundary-mypy]`` section (``[tool.fastapi-boundary-mypy]`` in pyproject).

    ``blocking``: extra ``name = category[: advice]`` lines for the catalogue;
    ``disable``: error codes to switch off; ``offloads``: extra qualified
    names of functions that run a sync callable in a thread.
    """

    blocking: tuple[str, ...] = ()
    disable: frozenset[str] = frozenset()
    offloads: tuple[str, ...] = ()
    source: str = ""
    layers: tuple[LayerRule, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "blocking": list(self.blocking),
            "disable": sorted(self.disable),
            "offloads": list(self.offloads),
        }


def catalog_digest() -> str:
    """A digest of the built-in catalogue and the plugin's version (an upgrade changes results)."""
    text = "\n".join([__version__, *map(repr, catalog.CATALOG)])  # frozen dataclasses
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_CATALOG_DIGEST: Final = catalog_digest()


def report_data(config: PluginConfig) -> dict[str, Any]:
    """What ``report_config_data`` gives mypy: everything that changes results.

    The configured lists, the layers declared in ``[tool.fastapi-boundary.layers]``
    and the catalogue's digest: mypy's cache is never stale for them.
    """
    layers = [rule.to_data() for rule in config.layers]
    return {**config.to_data(), "layers": layers, "catalog": _CATALOG_DIGEST}


def _error(message: str) -> Exception:
    return compat.config_error(f"fastapi-boundary mypy plugin: {message}")


def _lines(value: object, key: str, source: str) -> tuple[str, ...]:
    """An ini value (one item a line, or comma separated) or a TOML list/table, as strings."""
    if isinstance(value, str):
        separator = "\n" if "\n" in value.strip() or key == "blocking" else ","
        items = value.split(separator) if separator == "," else value.splitlines()
        return tuple(item.strip() for item in items if item.strip())
    if isinstance(value, Mapping) and key == "blocking":
        return tuple(f"{name} = {category}" for name, category in value.items())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise _error(f"{source}: [{CONFIG_SECTION}] {key} must be a list of strings")


def _read_section(config_file: str) -> Mapping[str, object] | None:
    if config_file.endswith(".toml"):
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - version dependent
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        with open(config_file, "rb") as handle:
            data = tomllib.load(handle)
        section = data.get("tool", {}).get(CONFIG_SECTION)
        return section if isinstance(section, Mapping) else None
    parser = ConfigParser()
    parser.read(config_file, encoding="utf-8")
    if not parser.has_section(CONFIG_SECTION):
        return None
    return dict(parser.items(CONFIG_SECTION))


def layers_of(config_file: str | None) -> tuple[LayerRule, ...]:
    """The project's ``[tool.fastapi-boundary.layers]``, from the same file the CLI reads.

    That is mypy's configuration file when it is a ``pyproject.toml``, else the
    first ``pyproject.toml`` from its folder (without one: the working
    folder) upward.  A mistake in the table stops mypy, as the CLI would.
    """
    folder = os.path.dirname(os.path.abspath(config_file)) if config_file else None
    path = find_pyproject(folder)
    if path is None:
        return ()
    try:
        return load_table(path).layers
    except Exception as error:
        from .._common.errors import BoundaryError

        if not isinstance(error, BoundaryError):
            raise
        raise _error(str(error)) from None


def load_config(config_file: str | None) -> PluginConfig:
    """Read and validate the plugin's section; a mistake raises mypy's ``CompileError``.

    The message names the file, the key and the fix.
    """
    layers = layers_of(config_file)
    if not config_file:
        return PluginConfig(layers=layers)
    section = _read_section(config_file)
    if section is None:
        return PluginConfig(source=config_file, layers=layers)
    source = f"{config_file} [{CONFIG_SECTION}]"
    unknown = sorted(set(section) - CONFIG_KEYS)
    if unknown:
        raise _error(
            f"{source}: unknown key(s) {', '.join(unknown)}. "
            f"Fix: use only {', '.join(sorted(CONFIG_KEYS))}."
        )
    blocking = _lines(section.get("blocking", ()), "blocking", source)
    disable = frozenset(_lines(section.get("disable", ()), "disable", source))
    offloads = _lines(section.get("offloads", ()), "offloads", source)
    bad = sorted(disable - set(ERROR_CODES))
    if bad:
        raise _error(
            f"{source}: disable names unknown code(s) {', '.join(bad)}. "
            f"Fix: use codes among {', '.join(ERROR_CODES)}."
        )
    if blocking:  # parse_entries imports the error classes, and with them FastAPI
        try:
            catalog.parse_entries(blocking, source)
        except Exception as error:
            from .._common.errors import BoundaryError

            if not isinstance(error, BoundaryError):
                raise
            raise _error(str(error)) from None
    return PluginConfig(blocking, disable, offloads, config_file, layers)
