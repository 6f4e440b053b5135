"""Foundation benchmarks: marked method calls, app build time with checks, ``check_app``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_foundation.py

Every figure is a ratio against an anchor measured in the same run, with the
two sides interleaved (A/B, then B/A, ...) so that machine drift hits both.
The report is printed and written to ``benchmarks/results/foundation.txt``.
See ``benchmarks/README.md`` for what each figure means.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_boundary
from _harness import (
    RESULTS_DIR,
    argument_parser,
    header,
    progress_count,
    publish,
    report,
    rotation,
    spread,
    verdict,
)
from fastapi_boundary import AsyncService, CheckMode, SyncService

RESULTS = RESULTS_DIR / "foundation.txt"
MODE_VAR = "FASTAPI_BOUNDARY_MODE"

CALL_BUDGET = 1.02
CHUNKS = 5  # each method-call sample is the fastest of this many timeit loops
BUILD_BUDGET = 1.15
CHECK_APP_BUDGET_S = 0.5


@dataclass
class Options:
    """Sample sizes (the defaults keep a run under about two minutes on 2 cores)."""

    calls: int = 1_000_000
    call_reps: int = 16
    call_pool: int = 4
    build_reps: int = 9
    check_processes: int = 5
    check_warm: int = 5


# --- statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class Paired:
    """Interleaved samples of a measured side (``a``) and its anchor (``b``)."""

    a: list[float]
    b: list[float]

    @property
    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a, self.b, strict=True)]

    @property
    def ratio(self) -> float:
        """Median of the per-repetition ratios (the budgeted figure)."""
        return statistics.median(self.ratios)


def interleave(
    reps: int, run_a: Callable[[], float], run_b: Callable[[], float], label: str
) -> Paired:
    """Alternate A/B and B/A per repetition; return the paired samples."""
    a: list[float] = []
    b: list[float] = []
    for rep in range(reps):
        for samples, run in rotation([(a, run_a), (b, run_b)], rep):
            samples.append(run())
        progress_count(label, rep + 1, reps)
    return Paired(a, b)


# --- 1. method calls on marked vs unmarked classes ---------------------------------------

_CLASS_SOURCE = """
class {name}{bases}:
    def __init__(self) -> None:
        self.value = 1

    {prefix}def method(self, x: int) -> int:
        return x + self.value
"""

_SYNC_STMT = "obj.method(1)"
_ASYNC_STMT = """
try:
    obj.method(1).send(None)
except StopIteration:
    pass
"""


def _make_instance(name: str, base: type | None, is_async: bool) -> object:
    """An instance of a class compiled from the same source, with or without ``base``."""
    namespace: dict[str, Any] = {"__name__": f"bench_calls_{name}"}
    if base is not None:
        namespace[base.__name__] = base
    source = _CLASS_SOURCE.format(
        name=name,
        bases=f"({base.__name__})" if base is not None else "",
        prefix="async " if is_async else "",
    )
    exec(source, namespace)
    instance: object = namespace[name]()
    return instance


def _call_timer(instance: object, stmt: str, number: int) -> Callable[[], float]:
    """Seconds per call: the fastest of ``CHUNKS`` timeit loops totalling ``number`` calls.

    Taking the fastest chunk (timeit's own advice) drops bursts of contention
    from other processes, which would otherwise dominate a 2% budget.
    """
    timer = timeit.Timer(stmt, globals={"obj": instance})
    per_chunk = max(1, number // CHUNKS)

    def run() -> float:
        return min(timer.repeat(repeat=CHUNKS, number=per_chunk)) / per_chunk

    return run


@dataclass(frozen=True)
class CallResult:
    label: str
    paired: Paired
    net_ratio: float
    budgeted: bool


def bench_call(
    label: str,
    base: type | None,
    is_async: bool,
    options: Options,
    checks: CheckMode = "strict",
) -> CallResult:
    """Marked (or, with ``base=None``, plain: the null control) vs plain classes.

    A single pair of objects shows a stable +-3% bias from memory layout alone
    (two identical plain classes differ by that much), so each side is a pool
    of ``options.call_pool`` classes created alternately and used in turn.
    """
    stmt = _ASYNC_STMT if is_async else _SYNC_STMT
    pool_a: list[Callable[[], float]] = []
    pool_b: list[Callable[[], float]] = []
    for index in range(options.call_pool):
        previous = fastapi_boundary.configure(checks)
        try:
            measured = _make_instance(f"Measured{index}", base, is_async)
        finally:
            fastapi_boundary.configure(previous)
        plain = _make_instance(f"Plain{index}", None, is_async)
        pool_a.append(_call_timer(measured, stmt, options.calls))
        pool_b.append(_call_timer(plain, stmt, options.calls))
    empty = _call_timer(None, "pass", options.calls)
    for run in (*pool_a, *pool_b, empty):  # warm up
        run()
    turn = {"a": 0, "b": 0}

    def rotate(pool: list[Callable[[], float]], side: str) -> Callable[[], float]:
        def run() -> float:
            index = turn[side] % len(pool)
            turn[side] += 1
            return pool[index]()

        return run

    loop_costs = [empty() for _ in range(3)]
    paired = interleave(options.call_reps, rotate(pool_a, "a"), rotate(pool_b, "b"), label)
    loop_costs.extend(empty() for _ in range(3))
    loop = statistics.median(loop_costs)
    net = [(x - loop) / (y - loop) for x, y in zip(paired.a, paired.b, strict=True)]
    return CallResult(label, paired, statistics.median(net), budgeted=base is not None)


def run_calls(options: Options) -> tuple[list[str], bool]:
    results = [
        bench_call("SyncService method, checks on", SyncService, False, options),
        bench_call("AsyncService method (coro.send), checks on", AsyncService, True, options),
        bench_call("SyncService method, checks off", SyncService, False, options, "off"),
        bench_call("control: plain vs identical plain", None, False, options),
    ]
    lines = [
        f"1. Method call on a marked class vs the same plain class (budget <= {CALL_BUDGET:.2f}x)",
        f"   {options.calls:,} calls per sample (fastest of {CHUNKS} timeit loops), "
        f"{options.call_reps} interleaved "
        f"repetitions over {options.call_pool} classes per side; 'net' subtracts the empty loop",
    ]
    ok = True
    for result in results:
        passed = result.paired.ratio <= CALL_BUDGET
        if result.budgeted:
            ok = ok and passed
        lines.append(
            f"   {result.label:<44} {result.paired.ratio:.3f}x  "
            f"({spread(result.paired.ratios)}; net {result.net_ratio:.3f}x; "
            f"{statistics.median(result.paired.a) * 1e9:.1f} vs "
            f"{statistics.median(result.paired.b) * 1e9:.1f} ns/call)  "
            f"{verdict(passed) if result.budgeted else '(harness floor)'}"
        )
    return lines, ok


# --- generated apps ----------------------------------------------------------------------


@dataclass(frozen=True)
class AppSpec:
    """What to generate: layer pairs, routers, grouping and mounting."""

    pairs: int
    layer_modules: int
    routers: tuple[tuple[str, int], ...]  # (mode, number of routes)
    nested: tuple[int, ...] = ()  # routers included into one parent "v1" router (same mode)
    mounted: tuple[int, ...] = ()  # routers served by a sub-app mounted at /sub
    layers: bool = True  # fastapi_boundary base classes (else plain classes)
    declared_routers: bool = True  # SyncRouter/AsyncRouter (else APIRouter)

    @property
    def routes(self) -> int:
        return sum(count for _, count in self.routers)


_FUTURE = "from __future__ import annotations\n\n"

_COMMON = '''\
"""Shared models and providers (identical in every variant)."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel


class Item(BaseModel):
    id: int
    name: str
    tags: list[str] = []


class Session:
    def close(self) -> None:
        pass


def get_session() -> Iterator[Session]:
    session = Session()
    try:
        yield session
    finally:
        session.close()


class Settings:
    page_size = 10


async def get_settings() -> Settings:
    return Settings()


class Page:
    def __init__(self, limit: int) -> None:
        self.limit = limit


async def get_page(
    settings: Annotated[Settings, Depends(get_settings)], limit: int = 10
) -> Page:
    return Page(min(limit, settings.page_size))
'''

_REPO = """
class Repo{i}{repo_base}:
    table: str = "t{i}"

    def __init__(self, session: Annotated[Session, Depends(get_session)]) -> None:
        self.session = session

    def get(self, item_id: int) -> Item:
        return Item(id=item_id, name=self.table)

    def add(self, item: Item) -> Item:
        return item

    def list(self, limit: int = 10) -> list[Item]:
        return [Item(id=n, name=self.table) for n in range(limit)]
"""

_SERVICE = """
class Service{i}{service_base}:
    repo: Repo{i}

    def __init__(self, repo: Annotated[Repo{i}, Depends()]) -> None:
        self.repo = repo

    def read(self, item_id: int) -> Item:
        return self.repo.get(item_id)

    def create(self, item: Item) -> Item:
        return self.repo.add(item)

    def list(self, limit: int = 10) -> list[Item]:
        return self.repo.list(limit)


def get_service{i}(repo: Annotated[Repo{i}, Depends()]) -> Service{i}:
    return Service{i}(repo)
"""

_SYNC_ROUTES = (
    """
@router.get("/items{j}/{{item_id}}", response_model=Item)
def route_{k}_{j}(item_id: int, svc: Annotated[Service{p}, Depends()]) -> Item:
    return svc.read(item_id)
""",
    """
@router.get("/items{j}/{{item_id}}/detail", response_model=Item)
def route_{k}_{j}(
    item_id: int,
    svc: Annotated[Service{p}, Depends(get_service{p})],
    q: str | None = None,
) -> Item:
    return svc.read(item_id)
""",
    """
@router.post("/items{j}", response_model=Item, status_code=201)
def route_{k}_{j}(item: Item, svc: Annotated[Service{p}, Depends()]) -> Item:
    return svc.create(item)
""",
    """
@router.get("/items{j}", response_model=list[Item])
def route_{k}_{j}(
    svc: Annotated[Service{p}, Depends(get_service{p})], limit: int = 10
) -> list[Item]:
    return svc.list(limit)
""",
)

_ASYNC_ROUTES = (
    """
@router.get("/items{j}/{{item_id}}", response_model=Item)
async def route_{k}_{j}(item_id: int, page: Annotated[Page, Depends(get_page)]) -> Item:
    return Item(id=item_id, name=str(page.limit))
""",
    """
@router.get("/items{j}", response_model=list[Item])
async def route_{k}_{j}(
    page: Annotated[Page, Depends(get_page)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> list[Item]:
    return [Item(id=n, name="a") for n in range(min(page.limit, settings.page_size))]
""",
)


def _layer_module(spec: AppSpec, index: int) -> str:
    per_module = spec.pairs // spec.layer_modules
    future = index % 2 == 0  # half of the modules use postponed annotations
    header = _FUTURE if future else ""
    if spec.layers:
        header += "from fastapi_boundary import SyncRepository, SyncService\n"
    header += (
        "from typing import Annotated\n\nfrom fastapi import Depends\n\n"
        "from .common import Item, Session, get_session\n"
    )
    repo_base = "(SyncRepository)" if spec.layers else ""
    service_base = "(SyncService)" if spec.layers else ""
    parts = [header]
    for i in range(index * per_module, (index + 1) * per_module):
        repo = _REPO.format(i=i, repo_base=repo_base)
        service = _SERVICE.format(i=i, service_base=service_base)
        # with postponed annotations the service names its repository before it exists
        parts.extend([service, repo] if future else [repo, service])
    return "\n".join(parts)


def _router_module(spec: AppSpec, k: int) -> str:
    mode, count = spec.routers[k]
    per_module = spec.pairs // spec.layer_modules
    header = _FUTURE if k % 2 == 0 else ""
    router_class = (
        ("SyncRouter" if mode == "sync" else "AsyncRouter")
        if spec.declared_routers
        else "APIRouter"
    )
    if spec.declared_routers:
        header += f"from fastapi_boundary import {router_class}\n"
    header += "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends\n\n"
    header += "from .common import Item, Page, Settings, get_page, get_settings\n"
    body = [f'\nrouter = {router_class}(prefix="/r{k}", tags=["r{k}"])\n']
    used: set[int] = set()
    for j in range(count):
        p = (k * count + j) % spec.pairs
        if mode == "sync":
            used.add(p)
            body.append(_SYNC_ROUTES[j % len(_SYNC_ROUTES)].format(j=j, k=k, p=p))
        else:
            body.append(_ASYNC_ROUTES[j % len(_ASYNC_ROUTES)].format(j=j, k=k))
    imports = []
    for p in sorted(used):
        imports.append(f"from .layers_{p // per_module} import Service{p}, get_service{p}\n")
    return header + "".join(imports) + "".join(body)


def _main_module(spec: AppSpec) -> str:
    lines = ["from fastapi import APIRouter, FastAPI\n"]
    if spec.declared_routers:
        lines.append("from fastapi_boundary import SyncRouter\n")
    lines.extend(
        f"from .routes_{k} import router as router_{k}\n" for k in range(len(spec.routers))
    )
    lines.append('\napp = FastAPI(title="bench")\n')
    if spec.nested:
        parent = "SyncRouter" if spec.declared_routers else "APIRouter"
        lines.append(f'v1 = {parent}(prefix="/v1")\n')
        lines.extend(f"v1.include_router(router_{k})\n" for k in spec.nested)
        lines.append("app.include_router(v1)\n")
    if spec.mounted:
        lines.append('sub = FastAPI(title="sub")\n')
        lines.extend(f"sub.include_router(router_{k})\n" for k in spec.mounted)
        lines.append('app.mount("/sub", sub)\n')
    for k in range(len(spec.routers)):
        if k not in spec.nested and k not in spec.mounted:
            lines.append(f"app.include_router(router_{k})\n")
    return "".join(lines)


def write_app(root: Path, package: str, spec: AppSpec) -> None:
    """Generate the package ``package`` under ``root``."""
    if spec.nested and {spec.routers[k][0] for k in spec.nested} != {"sync"}:
        raise ValueError("nested routers must all be sync")
    directory = root / package
    directory.mkdir(parents=True)
    files = {"__init__.py": "", "common.py": _COMMON, "main.py": _main_module(spec)}
    for index in range(spec.layer_modules):
        files[f"layers_{index}.py"] = _layer_module(spec, index)
    for k in range(len(spec.routers)):
        files[f"routes_{k}.py"] = _router_module(spec, k)
    for name, text in files.items():
        (directory / name).write_text(text)


# Runs in a fresh interpreter: import fastapi (untimed), then time the app module.
_BUILD_RUNNER = """
import importlib, json, sys, time
import fastapi, fastapi.routing, pydantic
sys.path.insert(0, sys.argv[1])
package = sys.argv[2]
start = time.perf_counter()
app = importlib.import_module(package + ".main").app
elapsed = time.perf_counter() - start
iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
routes = list(iter_contexts(app.routes)) if iter_contexts else list(app.routes)
api = [r for r in routes if isinstance(getattr(r, "original_route", r), fastapi.routing.APIRoute)]
layers = sum(
    1
    for name, module in sys.modules.items()
    if name.startswith(package + ".layers_")
    for value in vars(module).values()
    if isinstance(value, type) and value.__module__ == name
    and "__boundary_layer__" in value.__dict__
)
json.dump({"seconds": elapsed, "routes": len(api), "layer_classes": layers}, sys.stdout)
"""

# Runs in a fresh interpreter: layers imported untimed; routes + app timed (pure FastAPI
# work, the routers are plain APIRouter); then check_app, cold once and warm a few times.
_CHECK_RUNNER = """
import importlib, json, sys, time
import fastapi, fastapi.routing, pydantic
sys.path.insert(0, sys.argv[1])
package, warm = sys.argv[2], int(sys.argv[3])
import fastapi_boundary
for index in range(int(sys.argv[4])):
    importlib.import_module(f"{package}.layers_{index}")
start = time.perf_counter()
app = importlib.import_module(package + ".main").app
build = time.perf_counter() - start
start = time.perf_counter()
report = fastapi_boundary.check_app(app)
cold = time.perf_counter() - start
warm_times = []
for _ in range(warm):
    start = time.perf_counter()
    fastapi_boundary.check_app(app)
    warm_times.append(time.perf_counter() - start)
def depth(node):
    return 1 + max((depth(child) for child in node.children), default=0)
trees = [depth(r.endpoint) - 1 for r in report.routes if r.endpoint is not None]
json.dump(
    {
        "build": build,
        "cold": cold,
        "warm": warm_times,
        "routes": len(report.routes),
        "mounted": sum(1 for r in report.routes if r.path.startswith("/sub/")),
        "nested": sum(1 for r in report.routes if r.path.startswith("/v1/")),
        "violations": len(report.violations),
        "depths": sorted(set(trees)),
    },
    sys.stdout,
)
"""


def run_python(code: str, root: Path, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter with checks on; return the JSON it prints.

    Byte-code goes to a cache under ``root`` (never next to the sources), so the
    warm-up run compiles everything once and timed runs measure execution only.
    """
    skip = {MODE_VAR, "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env[MODE_VAR] = "strict"
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    completed = subprocess.run(
        [sys.executable, "-c", code, str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


# --- 2. building an app of 500 routes and 200 layer classes ------------------------------

BUILD_SPEC = AppSpec(
    pairs=100,
    layer_modules=4,
    routers=(("sync", 50),) * 8 + (("async", 50),) * 2,
    nested=(0, 1, 2, 3),
)


def run_build(root: Path, reps: int) -> tuple[list[str], bool]:
    write_app(root, "bench_app_checked", BUILD_SPEC)
    plain = AppSpec(**{**BUILD_SPEC.__dict__, "layers": False, "declared_routers": False})
    write_app(root, "bench_app_plain", plain)
    checks: dict[str, dict[str, Any]] = {}

    def runner(package: str) -> Callable[[], float]:
        def run() -> float:
            result = run_python(_BUILD_RUNNER, root, package)
            checks[package] = result
            return float(result["seconds"])

        return run

    run_a, run_b = runner("bench_app_checked"), runner("bench_app_plain")
    run_a(), run_b()  # warm up: writes the .pyc files, fills the OS file cache
    paired = interleave(reps, run_a, run_b, "app build")
    a, b = checks["bench_app_checked"], checks["bench_app_plain"]
    if a["routes"] != BUILD_SPEC.routes or b["routes"] != BUILD_SPEC.routes:
        raise RuntimeError(f"expected {BUILD_SPEC.routes} routes: {a} {b}")
    if a["layer_classes"] != 2 * BUILD_SPEC.pairs or b["layer_classes"] != 0:
        raise RuntimeError(f"expected {2 * BUILD_SPEC.pairs} layer classes: {a} {b}")
    passed = paired.ratio <= BUILD_BUDGET
    ratio_of_medians = statistics.median(paired.a) / statistics.median(paired.b)
    lines = [
        f"2. Building an app of {BUILD_SPEC.routes} routes and {2 * BUILD_SPEC.pairs} layer "
        f"classes, checks on, vs plain FastAPI (budget <= {BUILD_BUDGET:.2f}x)",
        f"   fresh interpreter per sample, `import fastapi` before the timer; "
        f"{reps} interleaved runs each",
        f"   checked {statistics.median(paired.a) * 1e3:.0f} ms, "
        f"plain {statistics.median(paired.b) * 1e3:.0f} ms (medians)",
        f"   ratio {paired.ratio:.3f}x (median of paired ratios; {spread(paired.ratios)}; "
        f"ratio of medians {ratio_of_medians:.3f}x)  {verdict(passed)}",
    ]
    return lines, passed


# --- 3. check_app on 300 routes ------------------------------------------------------------

CHECK_SPEC = AppSpec(
    pairs=100,
    layer_modules=4,
    routers=(("sync", 50),) * 4 + (("async", 50), ("sync", 50)),
    nested=(0, 1),
    mounted=(5,),
    declared_routers=False,
)


def run_check_app(root: Path, processes: int, warm: int) -> tuple[list[str], bool]:
    package = "bench_app_audit"
    write_app(root, package, CHECK_SPEC)
    args = (package, str(warm), str(CHECK_SPEC.layer_modules))
    run_python(_CHECK_RUNNER, root, *args)  # warm up: .pyc files
    samples = []
    for index in range(processes):
        samples.append(run_python(_CHECK_RUNNER, root, *args))
        progress_count("check_app", index + 1, processes)
    first = samples[0]
    if first["routes"] != CHECK_SPEC.routes or first["violations"] != 0:
        raise RuntimeError(f"expected {CHECK_SPEC.routes} clean routes: {first}")
    cold = [float(s["cold"]) for s in samples]
    warm_times = [float(t) for s in samples for t in s["warm"]]
    build = [float(s["build"]) for s in samples]
    per_process = [float(s["cold"]) / float(s["build"]) for s in samples]
    passed = statistics.median(cold) < CHECK_APP_BUDGET_S
    lines = [
        f"3. check_app on {first['routes']} routes ({first['nested']} in a nested router, "
        f"{first['mounted']} in a mounted sub-app; trees {first['depths']} deep below the "
        f"endpoint) (budget < {CHECK_APP_BUDGET_S} s)",
        f"   {processes} fresh interpreters; first call per process, then {warm} warm calls each",
        f"   first call {statistics.median(cold) * 1e3:.0f} ms median "
        f"({spread([c * 1e3 for c in cold], 0)} ms)  {verdict(passed)}",
        f"   warm call  {statistics.median(warm_times) * 1e3:.0f} ms median "
        f"({spread([w * 1e3 for w in warm_times], 0)} ms)",
        f"   vs FastAPI building that app ({statistics.median(build) * 1e3:.0f} ms median): "
        f"first call {statistics.median(per_process):.2f}x, "
        f"warm {statistics.median(warm_times) / statistics.median(build):.2f}x (informational)",
    ]
    return lines, passed


# --- report --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argument_parser(__doc__)
    defaults = Options()
    parser.add_argument("--calls", type=int, default=defaults.calls, help="calls per sample")
    parser.add_argument("--call-reps", type=int, default=defaults.call_reps)
    parser.add_argument("--call-pool", type=int, default=defaults.call_pool)
    parser.add_argument("--build-reps", type=int, default=defaults.build_reps)
    parser.add_argument("--check-processes", type=int, default=defaults.check_processes)
    parser.add_argument("--check-warm", type=int, default=defaults.check_warm)
    namespace = parser.parse_args(argv)
    return Options(
        calls=namespace.calls,
        call_reps=namespace.call_reps,
        call_pool=namespace.call_pool,
        build_reps=namespace.build_reps,
        check_processes=namespace.check_processes,
        check_warm=namespace.check_warm,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.build_reps < 7:
        raise SystemExit("--build-reps must be at least 7")
    head = header(
        "fastapi-boundary foundation benchmarks",
        ("fastapi-boundary", "fastapi", "starlette", "anyio", "pydantic"),
    )
    results: list[tuple[list[str], bool]] = []
    gc.collect()
    results.append(run_calls(options))
    root = Path(tempfile.mkdtemp(prefix="bench_foundation_"))
    try:
        results.append(run_build(root, options.build_reps))
        results.append(run_check_app(root, options.check_processes, options.check_warm))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    passed = all(ok for _, ok in results)
    publish(report(head, [section for section, _ in results], passed), RESULTS)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
