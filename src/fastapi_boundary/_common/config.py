"""``[tool.fastapi-boundary]`` in ``pyproject.toml``: one table, read the same way everywhere.

The CLI (``fastapi-boundary check``), ``install()``, the pytest plugin and the
mypy plugin all read it through `load_config`: found from a folder upward
(the first ``pyproject.toml``), parsed, validated into a frozen
`BoundaryConfig`, and kept per path and modification time.  A mistake is a
`BoundaryError` naming the file, the key and the fix (with a "did you mean"
when a key is close to a known one).

Pure: no FastAPI, no anyio, so the mypy plugin imports it (errors import the
exception classes only when they are raised, as the catalogue does).  Layer
modes are kept as the strings ``"sync"``/``"async"`` for the same reason.

::

    [tool.fastapi-boundary]
    app = "myapp.main:app"
    policy = "warn"
    baseline = "boundary-baseline.json"
    ignore = ["R2"]

    [tool.fastapi-boundary.layers]
    "myapp.repositories.*" = "sync repository"
    "myapp.services.Billing" = "async service"

    [[tool.fastapi-boundary.suppress]]
    rule = "R3"
    route = "GET /reports/{report_id}"
    reason = "legacy report builder; rewrite tracked in #812"
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn, cast

from .policy import POLICIES, Policy, policy_problem

__all__ = [
    "EMPTY",
    "KEYS",
    "RULES",
    "TABLE",
    "BoundaryConfig",
    "GuardConfig",
    "LayerRule",
    "Suppression",
    "find_pyproject",
    "load_config",
    "match_layer",
    "parse_rule",
    "read_config",
]

TABLE: Final = "tool.fastapi-boundary"
#: The keys of the table, as written in pyproject.toml.
KEYS: Final = (
    "app",
    "app-dir",
    "baseline",
    "factory",
    "format",
    "guard",
    "ignore",
    "layers",
    "policy",
    "select",
    "suppress",
)
#: Rule code -> slug (``tests/audit/test_config.py`` holds it equal to ``Rule``).
RULES: Final[Mapping[str, str]] = {
    "R1": "declared-mode",
    "R2": "callable-mode",
    "R3": "same-mode-dependencies",
    "R5": "no-blocking-on-the-loop",
}
#: What a layer may be declared as in ``[tool.fastapi-boundary.layers]`` (the short form).
LAYER_KINDS: Final = ("layer", "repository", "service")
SUPPRESS_SCOPES: Final = ("route", "layer", "dependency")
SUPPRESS_KEYS: Final = ("rule", "reason", *SUPPRESS_SCOPES)
GUARD_KEYS: Final = ("baseline", "blocking", "endpoints", "exempt", "mode", "threshold")
_PATTERN = re.compile(r"^[\w*?\[\]!.-]+$")


def _fail(message: str) -> NoReturn:
    from .errors import BoundaryError  # only on error: the mypy plugin reads this module

    raise BoundaryError(message)


def _close(word: str, known: tuple[str, ...] | list[str]) -> str:
    """`` Did you mean 'policy'?`` when ``word`` is close to a known word, else nothing."""
    matches = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" Did you mean {matches[0]!r}?" if matches else ""


def parse_rule(value: object, where: str) -> str:
    """A rule code (``"R3"``) from a code or a slug, in any case (``"r3"``, ``"callable-mode"``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in RULES:
            return text.upper()
        for code, slug in RULES.items():
            if text.lower() in (slug, f"{code.lower()}-{slug}"):
                return code
    known = ", ".join(RULES)
    hint = _close(value, [*RULES, *RULES.values()]) if isinstance(value, str) else ""
    _fail(f"{where}: unknown rule {value!r}.{hint} Fix: use one of {known}.")


@dataclass(frozen=True)
class LayerRule:
    """One entry of ``[tool.fastapi-boundary.layers]``: classes matching ``pattern`` are layers.

    ``pattern`` is matched (``fnmatch``, case-sensitive) against a class's
    qualified name, ``module.Class``; ``*`` matches dots too, so
    ``"app.repositories.*"`` covers the classes of that package's modules.
    """

    pattern: str
    mode: str  # "sync" | "async"
    kind: str

    @property
    def role(self) -> str:
        return f"{self.mode} {self.kind}"

    @property
    def exact(self) -> bool:
        return not any(char in self.pattern for char in "*?[")

    def matches(self, qualified_name: str) -> bool:
        if self.exact:
            return qualified_name == self.pattern
        return fnmatch.fnmatchcase(qualified_name, self.pattern)

    def to_data(self) -> list[str]:
        return [self.pattern, self.mode, self.kind]


def match_layer(rules: tuple[LayerRule, ...], qualified_name: str) -> LayerRule | None:
    """The rule for ``qualified_name``: the rules are ordered most specific first."""
    for rule in rules:
        if rule.matches(qualified_name):
            return rule
    return None


def _specificity(rule: LayerRule) -> tuple[bool, int]:
    """Exact names first, then longer patterns (``app.repos.legacy.*`` before ``app.*``)."""
    return (not rule.exact, -len(rule.pattern))


@dataclass(frozen=True)
class Suppression:
    """A rule switched off, for a reason, for one route, layer or dependency.

    ``scope`` is ``route`` (``target`` is ``"GET /items/{item_id}"`` or a path),
    ``layer`` or ``dependency`` (``target`` is a qualified name or an fnmatch
    pattern of one), or ``object`` for a suppression written in code
    (``@suppress_rule`` or ``suppress=``: ``target`` is the decorated object's
    qualified name).  ``source`` says where it was written.
    """

    rule: str
    reason: str
    scope: str
    target: str
    source: str

    def describe(self) -> str:
        what = self.target if self.scope == "object" else f"{self.scope} {self.target}"
        return f"{self.rule} for {what} ({self.source}): {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "scope": self.scope,
            "target": self.target,
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(frozen=True)
class GuardConfig:
    """``[tool.fastapi-boundary.guard]``: defaults for the pytest plugin's ini keys.

    An ini key (``boundary``, ``boundary_baseline`` ...) or a command-line
    option, when given, wins over the table.
    """

    mode: Policy | None = None
    baseline: Path | None = None
    exempt: tuple[tuple[str, str], ...] = ()
    blocking: tuple[str, ...] = ()
    threshold: float | None = None
    endpoints: bool | None = None


@dataclass(frozen=True)
class BoundaryConfig:
    """The validated ``[tool.fastapi-boundary]`` table (empty when there is none).

    Paths (``app_dir``, ``baseline``) are resolved against the folder of the
    ``pyproject.toml`` they were read from.  ``select``, when given, is the
    only rules reported; ``ignore`` is removed from them.
    """

    path: Path | None = None
    present: bool = False
    app: str | None = None
    app_dir: Path | None = None
    factory: bool = False
    format: str | None = None
    baseline: Path | None = None
    policy: Policy | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    layers: tuple[LayerRule, ...] = ()
    suppress: tuple[Suppression, ...] = ()
    guard: GuardConfig = field(default_factory=GuardConfig)

    @property
    def source(self) -> str:
        """``pyproject.toml [tool.fastapi-boundary]``, for messages."""
        return f"{_shown(self.path)} [{TABLE}]" if self.path is not None else f"[{TABLE}]"

    @property
    def adopting(self) -> bool:
        """A baseline or layers declared here: the app is on its way to being clean."""
        return self.baseline is not None or bool(self.layers)

    def reports(self, rule: str) -> bool:
        """Whether findings of ``rule`` are reported (``select`` and ``ignore``)."""
        if self.select is not None and rule not in self.select:
            return False
        return rule not in self.ignore


EMPTY: Final = BoundaryConfig()


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


# --- reading ---------------------------------------------------------------------------

_HEADER = re.compile(r"""^\s*\[\[?\s*tool\s*\.\s*(["']?)fastapi-boundary\1\s*[.\]]""", re.M)
_DOTTED = re.compile(r"""^\s*(tool\s*\.\s*)?(["']?)fastapi-boundary\2\s*\.""", re.M)


def _toml_loads() -> Callable[[str], dict[str, Any]] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - version dependent
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            return None
    loads: Callable[[str], dict[str, Any]] = tomllib.loads
    return loads


def find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The first ``pyproject.toml`` in ``start`` (default: the working folder) or above it."""
    folder = Path(start if start is not None else os.getcwd()).resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


_cache: dict[Path, tuple[tuple[int, int], BoundaryConfig]] = {}


def load_config(
    path: str | os.PathLike[str] | None = None, *, start: str | os.PathLike[str] | None = None
) -> BoundaryConfig:
    """The ``[tool.fastapi-boundary]`` table of ``path``, or of the ``pyproject.toml`` found
    from ``start`` (default: the working folder) upward.

    An empty `BoundaryConfig` when there is no such file or table.  Kept per
    path and modification time: reading it again is a ``stat``.
    """
    file = Path(path).resolve() if path is not None else find_pyproject(start)
    if file is None:
        return EMPTY
    try:
        stat = file.stat()
    except OSError:
        if path is not None:
            _fail(f"{file}: no such file. Fix: name an existing pyproject.toml.")
        return EMPTY
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(file)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    config = read_config(file)
    _cache[file] = (stamp, config)
    return config


def read_config(path: Path) -> BoundaryConfig:
    """Parse and validate the table of one file (no cache)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{_shown(path)}: cannot be read ({error}).")
    if "fastapi-boundary" not in text:
        return BoundaryConfig(path=path)
    loads = _toml_loads()
    if loads is None:  # Python 3.10 without tomli
        if _HEADER.search(text) is None and _DOTTED.search(text) is None:
            return BoundaryConfig(path=path)
        _fail(
            f"{_shown(path)} has a [{TABLE}] table, and reading TOML on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} needs the tomli package. "
            "Fix: pip install tomli, or use Python 3.11 or later."
        )
    try:
        data = loads(text)
    except ValueError as error:  # tomllib.TOMLDecodeError
        _fail(f"{_shown(path)} is not valid TOML: {error}. Fix: correct the file.")
    table = data.get("tool", {}).get("fastapi-boundary")
    if table is None:
        return BoundaryConfig(path=path)
    return _Validator(path).config(table)


# --- validating ------------------------------------------------------------------------


class _Validator:
    """Turns the raw table into a `BoundaryConfig`; every message names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.parent
        self.file = _shown(path)

    def fail(self, key: str, problem: str, fix: str) -> NoReturn:
        _fail(f"{self.file}: [{TABLE}] {key} {problem}. Fix: {fix}")

    def unknown(self, keys: Mapping[str, object], known: tuple[str, ...], where: str) -> None:
        for key in keys:
            if key not in known:
                hint = _close(key, known)
                _fail(
                    f"{self.file}: unknown key {key!r} in [{where}].{hint} "
                    f"Fix: use only {', '.join(known)}."
                )

    def string(self, table: Mapping[str, object], key: str, label: str = "") -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(label or key, f"must be a non-empty string; got {value!r}", "quote it")
        return value.strip()

    def boolean(self, table: Mapping[str, object], key: str, label: str = "") -> bool | None:
        value = table.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(label or key, f"must be true or false; got {value!r}", f"{key} = true")
        return value

    def path_value(self, table: Mapping[str, object], key: str, label: str = "") -> Path | None:
        value = self.string(table, key, label)
        return None if value is None else (self.folder / value).resolve()

    def rules(self, table: Mapping[str, object], key: str) -> frozenset[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"must be a list of rule codes; got {value!r}", f'{key} = ["R2"]')
        where = f"{self.file}: [{TABLE}] {key}"
        return frozenset(parse_rule(item, where) for item in value)

    def config(self, table: object) -> BoundaryConfig:
        if not isinstance(table, Mapping):
            _fail(f"{self.file}: [{TABLE}] must be a table. Fix: write [{TABLE}] on its own line.")
        self.unknown(table, KEYS, TABLE)
        app = self.string(table, "app")
        if app is not None and (":" not in app or app.startswith(":") or app.endswith(":")):
            self.fail("app", f"must be 'module:attribute'; got {app!r}", 'app = "myapp.main:app"')
        policy = table.get("policy")
        if policy is not None:
            problem = policy_problem(policy, f"{self.file}: [{TABLE}] policy", 'policy = "warn"')
            if problem is not None:
                _fail(problem.replace(" Fix:", _close(str(policy), POLICIES) + " Fix:", 1))
        return BoundaryConfig(
            path=self.path,
            present=True,
            app=app,
            app_dir=self.path_value(table, "app-dir"),
            factory=bool(self.boolean(table, "factory")),
            format=self.string(table, "format"),
            baseline=self.path_value(table, "baseline"),
            policy=cast("Policy | None", policy),
            select=self.rules(table, "select"),
            ignore=self.rules(table, "ignore") or frozenset(),
            layers=self.layers(table.get("layers")),
            suppress=self.suppressions(table.get("suppress")),
            guard=self.guard(table.get("guard")),
        )

    def layers(self, value: object) -> tuple[LayerRule, ...]:
        if value is None:
            return ()
        where = f"{TABLE}.layers"
        if not isinstance(value, Mapping):
            _fail(
                f"{self.file}: [{TABLE}] layers must be a table of pattern = role. "
                f'Fix: [{where}] then "myapp.repositories.*" = "sync repository".'
            )
        found = [self.layer(str(pattern), role, where) for pattern, role in value.items()]
        return tuple(sorted(found, key=_specificity))

    def layer(self, pattern: str, role: object, where: str) -> LayerRule:
        key = f"[{where}] {pattern!r}"
        example = '"myapp.repositories.*" = "sync repository"'
        if not _PATTERN.match(pattern) or ".." in pattern or pattern.endswith("."):
            _fail(
                f"{self.file}: {key} is not a class pattern. Fix: name classes as "
                f"module.Class or module.* (fnmatch), e.g. {example}."
            )
        if "." not in pattern and not pattern.startswith("*"):
            _fail(
                f"{self.file}: {key} names no module. Fix: write the qualified name, "
                f"module.Class (or *{pattern} for a class of that name in any module)."
            )
        if pattern.count("[") != pattern.count("]"):
            _fail(f"{self.file}: {key} has an unbalanced [ ]. Fix: close the bracket.")
        if isinstance(role, Mapping):
            self.unknown(role, ("kind", "mode"), f"{where}.{pattern!r}")
            mode, kind = role.get("mode"), role.get("kind", "layer")
            if not isinstance(kind, str) or not kind.strip() or kind == "driver":
                _fail(f"{self.file}: {key} kind must be a word other than 'driver'; got {kind!r}.")
            kind = kind.strip()
        elif isinstance(role, str):
            mode, _, kind = role.strip().partition(" ")
            kind = kind.strip() or "layer"
            if kind not in LAYER_KINDS:
                _fail(
                    f"{self.file}: {key} has unknown role {role!r}.{_close(kind, LAYER_KINDS)} "
                    f"Fix: write '<sync|async> <{'|'.join(LAYER_KINDS)}>', e.g. {example}, or "
                    f'{{ mode = "sync", kind = "gateway" }} for a kind of your own.'
                )
        else:
            mode, kind = None, ""
        if mode not in ("sync", "async"):
            _fail(
                f"{self.file}: {key} has unknown mode {mode!r}. Fix: start the role with "
                f"sync or async, e.g. {example}."
            )
        return LayerRule(pattern, mode, kind)

    def suppressions(self, value: object) -> tuple[Suppression, ...]:
        if value is None:
            return ()
        where = f"[[{TABLE}.suppress]]"
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list):
            _fail(f"{self.file}: {where} must be an array of tables. Fix: write {where} entries.")
        found: list[Suppression] = []
        for number, entry in enumerate(value, start=1):
            found.extend(self.suppression(entry, f"{where} #{number}"))
        return tuple(found)

    def suppression(self, entry: object, where: str) -> list[Suppression]:
        label = f"{self.file}: {where}"
        example = 'rule = "R3", layer = "myapp.services.Billing", reason = "..."'
        if not isinstance(entry, Mapping):
            _fail(f"{label} must be a table. Fix: {example}.")
        for key in entry:
            if key not in SUPPRESS_KEYS:
                _fail(
                    f"{label}: unknown key {key!r}.{_close(key, SUPPRESS_KEYS)} "
                    f"Fix: use only {', '.join(SUPPRESS_KEYS)}."
                )
        scopes = [scope for scope in SUPPRESS_SCOPES if scope in entry]
        if len(scopes) != 1:
            _fail(
                f"{label} must name exactly one of route, layer or dependency; "
                f"got {', '.join(scopes) or 'none'}. Fix: {example}."
            )
        scope = scopes[0]
        target = entry[scope]
        if not isinstance(target, str) or not target.strip():
            _fail(f"{label}: {scope} must be a non-empty string; got {target!r}.")
        rules = entry.get("rule")
        if rules is None:
            _fail(f"{label} needs a rule. Fix: {example}.")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            _fail(
                f"{label} ({scope} {target!r}) needs a reason: a suppression says why. "
                f'Fix: add reason = "why this is allowed, and until when".'
            )
        listed = rules if isinstance(rules, list) else [rules]
        source = f"{self.file} {where}"
        return [
            Suppression(parse_rule(rule, label), reason.strip(), scope, target.strip(), source)
            for rule in listed
        ]

    def guard(self, value: object) -> GuardConfig:
        if value is None:
            return GuardConfig()
        where = f"{TABLE}.guard"
        if not isinstance(value, Mapping):
            _fail(f"{self.file}: [{TABLE}] guard must be a table. Fix: write [{where}].")
        self.unknown(value, GUARD_KEYS, where)
        mode = value.get("mode")
        if mode is not None:
            problem = policy_problem(mode, f"{self.file}: [{where}] mode", 'mode = "strict"')
            if problem is not None:
                _fail(problem)
        exempt = value.get("exempt", {})
        if not isinstance(exempt, Mapping) or not all(
            isinstance(reason, str) and reason.strip() for reason in exempt.values()
        ):
            _fail(
                f"{self.file}: [{where}] exempt must be a table of name = reason, each with a "
                'reason. Fix: exempt = { "time.sleep" = "legacy client, tracked in #123" }.'
            )
        blocking = value.get("blocking", ())
        if isinstance(blocking, Mapping):
            blocking = [f"{name} = {category}" for name, category in blocking.items()]
        if not isinstance(blocking, (list, tuple)) or not all(
            isinstance(line, str) for line in blocking
        ):
            _fail(
                f"{self.file}: [{where}] blocking must be a table of name = category. "
                'Fix: blocking = { "myclient.fetch" = "net" }.'
            )
        threshold = value.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0
        ):
            _fail(f"{self.file}: [{where}] threshold must be seconds > 0; got {threshold!r}.")
        return GuardConfig(
            mode=cast("Policy | None", mode),
            baseline=self.path_value(value, "baseline", "guard.baseline"),
            exempt=tuple((str(name), str(reason)) for name, reason in exempt.items()),
            blocking=tuple(blocking),
            threshold=float(threshold) if threshold is not None else None,
            endpoints=self.boolean(value, "endpoints", "guard.endpoints"),
        )
