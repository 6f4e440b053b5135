"""mypy plugin benchmarks: wall time with and without the plugin, and what it detects.

1. mypy's wall time, cold cache, with ``plugins = fastapi_boundary.mypy`` against the same
   run without it, on the examples, on a generated 200-module project that uses the library,
   on a generated 200-module project of sync helpers that block (through each other and across
   modules) called and offloaded from async code, where the plugin computes every module's
   blocking effects, and on a generated 200-module project that does not use the library
   (budget <= 1.15x each).
2. A detection table on ``benchmarks/mypy_corpus`` (one module per category, each with a
   negative twin): this plugin, ``ruff check --select ASYNC`` and flake8-async, side by side.

Each mypy sample is a fresh interpreter with an empty cache directory; the sides alternate
(rotating which goes first) so that drift and other load hit both alike.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    RESULTS_DIR,
    argument_parser,
    header,
    progress,
    progress_count,
    publish,
    report,
    rotation,
    spread,
    verdict,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "mypy_corpus"
BIN = Path(sys.executable).parent
BUDGET = 1.15
MODULES = 200
_CONFIG = "[mypy]\ncheck_untyped_defs = true\nshow_error_codes = true\npretty = false\n"
_PLUGIN = "plugins = fastapi_boundary.mypy\n"

_LIBRARY_MODULE = '''\
"""Generated module {i}: a sync repository and service, an async service over a proxy."""

from fastapi_boundary import (
    AsyncProxy,
    AsyncService,
    SyncRepository,
    SyncService,
    blocking,
    run_blocking,
    to_async,
)
{previous_import}

class Repository{i}(SyncRepository):
    def get(self, key: int) -> int:
        return key + {i}

    def many(self, keys: list[int]) -> dict[int, int]:
        return {{key: self.get(key) for key in keys}}


class Service{i}(SyncService):
    def __init__(self, repository: Repository{i}) -> None:
        self.repository = repository

    def total(self, keys: list[int]) -> int:
        found = self.repository.many(keys)
        return sum(value for value in found.values() if value % 2 == 0)


class Front{i}(AsyncService):
    def __init__(self, service: AsyncProxy[Service{i}]) -> None:
        self.service = service

    async def total(self, keys: list[int]) -> int:
        return await self.service.total(keys)


@blocking
def load{i}(path: str) -> str:
    return path.upper()


async def handler{i}(names: list[str]) -> str:
    front = Front{i}(to_async(Service{i}(Repository{i}())))
    count = await front.total([len(name) for name in names])
    text = await run_blocking(load{i}, ",".join(sorted(names)))
    {previous_call}
    return f"{{text}}:{{count}}"
'''

_PLAIN_MODULE = '''\
"""Generated module {i}: ordinary sync and async code, no fastapi-boundary."""

import asyncio
from dataclasses import dataclass, field
{previous_import}

@dataclass
class Record{i}:
    key: int
    tags: list[str] = field(default_factory=list)

    def label(self) -> str:
        return "-".join(sorted(self.tags)) or str(self.key)


class Store{i}:
    def __init__(self) -> None:
        self.records: dict[int, Record{i}] = {{}}

    def add(self, record: Record{i}) -> None:
        self.records[record.key] = record

    def labels(self) -> list[str]:
        return [record.label() for record in self.records.values()]


async def handler{i}(keys: list[int]) -> list[str]:
    store = Store{i}()
    for key in keys:
        store.add(Record{i}(key, [str(key), "x"]))
        await asyncio.sleep(0)
    {previous_call}
    return store.labels()
'''


_HELPERS_MODULE = '''\
"""Generated module {i}: the app's own sync helpers that block, and async code offloading them."""

import subprocess

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fastapi_boundary import run_blocking
{previous_import}

def save{i}(session: Session, name: str) -> None:
    session.info["name"] = label{i}(name)
    {previous_call}


def render{i}(name: str) -> bytes:
    return subprocess.check_output(["echo", label{i}(name)])


def label{i}(name: str) -> str:
    return " ".join(part.title() for part in name.split())


class Store{i}:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str) -> None:
        save{i}(self.session, name)

    def size(self) -> int:
        return len(self.session.info)


class Service{i}:
    def __init__(self, store: Store{i}) -> None:
        self.store = store

    async def create(self, name: str) -> int:
        await run_blocking(self.store.add, label{i}(name))
        return self.store.size()


async def handler{i}(session: Session, async_session: AsyncSession, name: str) -> bytes:
    await Service{i}(Store{i}(session)).create(name)
    async_session.add(object())
    await async_session.commit()
    return await run_blocking(render{i}, name)
'''


def _chain(package: str, i: int) -> tuple[str, str]:
    """Each module's handler awaits the previous module's: a cross-module chain."""
    if not i:
        return "", "pass"
    return f"from {package}.module_{i - 1} import handler{i - 1}\n", f"await handler{i - 1}([])"


def _helper_chain(package: str, i: int) -> tuple[str, str]:
    """Each module's ``save`` calls the previous module's; every fifth one commits itself."""
    if i % 5 == 0:
        return "", "session.commit()"
    return f"from {package}.module_{i - 1} import save{i - 1}\n", f"save{i - 1}(session, name)"


def generate(
    root: Path, template: str, package: str, link: Callable[[str, int], tuple[str, str]] = _chain
) -> Path:
    """A package of MODULES modules, each importing the one before (a cross-module chain)."""
    target = root / package
    target.mkdir(parents=True)
    (target / "__init__.py").write_text("")
    for i in range(MODULES):
        previous_import, previous_call = link(package, i)
        (target / f"module_{i}.py").write_text(
            template.format(i=i, previous_import=previous_import, previous_call=previous_call)
        )
    return target


_IMPORT_ONLY = '''\
"""A plugin that only imports fastapi_boundary, as fastapi_boundary.mypy must: the import floor."""

import fastapi_boundary  # noqa: F401
from mypy.plugin import Plugin


def plugin(version: str) -> type[Plugin]:
    return Plugin
'''
SIDES = ("without", "import only", "with")


@dataclass
class Sample:
    wall: float
    cpu: float


def cold_run(config: Path, targets: Sequence[Path]) -> Sample:
    """Wall and CPU time (user + system) of one mypy process with an empty cache directory."""
    with tempfile.TemporaryDirectory() as cache:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file",
                str(config),
                "--cache-dir",
                cache,
                "--no-error-summary",
                *map(str, targets),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1) or "error: INTERNAL ERROR" in done.stdout + done.stderr:
        raise RuntimeError(f"mypy failed on {targets}: {done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(elapsed, cpu)


def wall_time(work: Path, reps: int) -> tuple[list[str], bool]:
    (work / "import_only.py").write_text(_IMPORT_ONLY)
    configs = {}
    for side, extra in zip(
        SIDES, ("", f"plugins = {work / 'import_only.py'}\n", _PLUGIN), strict=True
    ):
        configs[side] = work / f"{side.replace(' ', '_')}.ini"
        configs[side].write_text(_CONFIG + extra)
    examples = sum(1 for _ in (ROOT / "examples").rglob("*.py"))
    targets = {
        f"examples/ (the repository's {examples} modules)": [ROOT / "examples"],
        f"generated project using the library ({MODULES} modules)": [
            generate(work, _LIBRARY_MODULE, "with_library")
        ],
        f"generated project of blocking sync helpers ({MODULES} modules)": [
            generate(work, _HELPERS_MODULE, "with_helpers", _helper_chain)
        ],
        f"generated project not using it ({MODULES} modules)": [
            generate(work, _PLAIN_MODULE, "plain_code")
        ],
    }
    lines = [
        f"1. mypy wall time, cold cache, with the plugin vs without it (budget <= {BUDGET:.2f}x)",
        f"   fresh interpreter and empty cache per sample; {reps} interleaved repetitions, "
        "sides rotated; check_untyped_defs on",
        "   'import only': a plugin that only imports fastapi_boundary (the package, as "
        "loading fastapi_boundary.mypy does): the floor the plugin's hooks add to",
    ]
    passed = True
    for label, paths in targets.items():
        samples: dict[str, list[Sample]] = {side: [] for side in SIDES}
        ratios: dict[str, list[float]] = {"wall": [], "cpu": [], "hooks": []}
        for turn in range(reps):
            progress_count(label, turn, reps)
            sample = {}
            for side in rotation(SIDES, turn):
                sample[side] = cold_run(configs[side], paths)
                samples[side].append(sample[side])
            ratios["wall"].append(sample["with"].wall / sample["without"].wall)
            ratios["cpu"].append(sample["with"].cpu / sample["without"].cpu)
            ratios["hooks"].append(sample["with"].cpu / sample["import only"].cpu)
        ratio = statistics.median(ratios["wall"])
        ok = ratio <= BUDGET
        passed = passed and ok
        medians = ", ".join(
            f"{side} {statistics.median(s.wall for s in samples[side]):.2f} s "
            f"(CPU {statistics.median(s.cpu for s in samples[side]):.2f} s)"
            for side in SIDES
        )
        lines.append(f"   {label}")
        lines.append(f"     wall (CPU) medians: {medians}")
        lines.append(
            f"     wall ratio {ratio:.3f}x (median of paired ratios; {spread(ratios['wall'])})"
            f"  {verdict(ok)}"
        )
        lines.append(
            f"     CPU ratio {statistics.median(ratios['cpu']):.3f}x ({spread(ratios['cpu'])}); "
            f"plugin vs import only, CPU: {statistics.median(ratios['hooks']):.3f}x "
            f"({spread(ratios['hooks'])})"
        )
    return lines, passed


# --- detection ---------------------------------------------------------------------------

_MYPY_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")
#: The name-based tools' blocking-call rules (ASYNC2xx); ASYNC1xx are about other things.
_BLOCKING_RULES = "ASYNC2"
_LINT_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+):\d+: (?P<code>ASYNC\d+)")


@dataclass
class Score:
    hits: int = 0
    misses: int = 0
    false_alarms: int = 0


def _found(output: str, pattern: re.Pattern[str], wanted: str) -> set[tuple[str, int]]:
    found = set()
    for line in output.splitlines():
        match = pattern.match(line.strip())
        if match and match["code"].startswith(wanted):
            found.add((Path(match["file"]).name, int(match["line"])))
    return found


def detection(work: Path) -> tuple[list[str], bool]:
    corpus = work / "corpus"
    corpus.mkdir()
    expected: set[tuple[str, int]] = set()
    files = sorted(CORPUS.glob("*.py"))
    for source in files:
        text = source.read_text()
        (corpus / source.name).write_text(text)
        for number, line in enumerate(text.splitlines(), start=1):
            if line.rstrip().endswith("# expect"):
                expected.add((source.name, number))
    config = work / "detect.ini"
    config.write_text(_CONFIG + _PLUGIN)
    progress("detection: mypy with the plugin")
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(work / "detect-cache"),
            *map(str, sorted(corpus.glob("*.py"))),
        ],
        capture_output=True,
        text=True,
        cwd=corpus,
    )
    progress("detection: ruff and flake8-async")
    ruff = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC",
            "--output-format",
            "concise",
            str(corpus),
        ],
        capture_output=True,
        text=True,
    )
    flake8 = subprocess.run(
        [str(BIN / "flake8-async"), "--anyio", *map(str, sorted(corpus.glob("*.py")))],
        capture_output=True,
        text=True,
    )
    reported = {
        "fastapi-boundary plugin": _found(mypy.stdout, _MYPY_LINE, "boundary-blocking-call"),
        "ruff --select ASYNC": _found(ruff.stdout, _LINT_LINE, _BLOCKING_RULES),
        "flake8-async": _found(flake8.stdout, _LINT_LINE, _BLOCKING_RULES),
    }
    other = [
        line for line in mypy.stdout.splitlines() if "error:" in line and "[boundary-" not in line
    ]
    categories = sorted({f.stem.removesuffix("_ok") for f in files})
    lines = [
        "2. Detection on benchmarks/mypy_corpus: hits / misses / false alarms per category",
        f"   {len(expected)} blocking lines marked '# expect' in {len(categories)} categories; "
        "each category's negative twin (*_ok.py) should raise nothing",
        "   counted: the plugin's boundary-blocking-call, the linters' blocking-call rules "
        "(ASYNC2xx); flake8-async run with --anyio",
        f"   {'category':<16}" + "".join(f"{tool:>28}" for tool in reported),
    ]
    totals = {tool: Score() for tool in reported}
    for category in categories:
        row = f"   {category:<16}"
        for tool, found in reported.items():
            score = Score()
            for name in (f"{category}.py", f"{category}_ok.py"):
                marked = {item for item in expected if item[0] == name}
                seen = {item for item in found if item[0] == name}
                score.hits += len(marked & seen)
                score.misses += len(marked - seen)
                score.false_alarms += len(seen - marked)
            total = totals[tool]
            total.hits += score.hits
            total.misses += score.misses
            total.false_alarms += score.false_alarms
            row += f"{f'{score.hits} / {score.misses} / {score.false_alarms}':>28}"
        lines.append(row)
    lines.append(
        f"   {'total':<16}"
        + "".join(f"{f'{s.hits} / {s.misses} / {s.false_alarms}':>28}" for s in totals.values())
    )
    plugin = totals["fastapi-boundary plugin"]
    ok = plugin.misses == 0 and plugin.false_alarms == 0 and not other
    lines.append(
        f"   the plugin finds every marked line and nothing on the negative twins: {verdict(ok)}"
    )
    if other:
        lines.append(f"   mypy reported other errors on the corpus: {other}")
    return lines, ok


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--reps", type=int, default=5, help="cold mypy runs per side and target")
    parser.add_argument(
        "--skip-timing", action="store_true", help="detection table only (not for results)"
    )
    args = parser.parse_args()
    head = header(
        "fastapi-boundary mypy plugin benchmarks",
        ["fastapi-boundary", "mypy", "fastapi", "sqlalchemy", "ruff", "flake8-async"],
        summary="Figures are ratios against the same mypy run without the plugin, interleaved; "
        "medians, with spread.",
    )
    head[3:3] = [f"uname:    {' '.join(os.uname())}", f"cpu:      {_cpu_model()}"]
    sections = []
    passed = True
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        if not args.skip_timing:
            lines, ok = wall_time(work, args.reps)
            sections.append(lines)
            passed = passed and ok
        lines, ok = detection(work)
        sections.append(lines)
        passed = passed and ok
    publish(report(head, sections, passed), None if args.skip_timing else RESULTS_DIR / "mypy.txt")
    return 0 if passed else 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
