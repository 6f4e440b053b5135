"""What each route reaches and what its code does: the evidence the advice is drawn from.

Nothing here is new analysis: the route's dependency tree is the audit's
(``check_app``), the layers a layer names come from the audit's annotation
reading, drivers from its driver table, and what the code calls from its body
analysis (``bodies.Analyzer``), run over the route's ``def`` endpoint and the
methods of every layer on its chain as well as over what runs on the loop.
What could not be seen (an unresolved call, a callable without source, an
unclassified dependency) is kept with the route: the advice says so.
"""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .._audit import annotations as refs
from .._audit.bodies import Analyzer, Hit, Inst, LoopFunction
from .._audit.bodies.sources import function_node, is_app_function, unwrapped
from .._audit.loop_functions import analyse_loop, loop_target
from .._audit.report import AppReport, RouteReport
from .._common.declarations import LayerInfo
from .._common.modes import Mode
from .._common.sites import Site, display_name, site_of

__all__ = ["Reached", "RouteEvidence", "gather", "public_methods", "router_of"]

_HTTP_MODULES = ("httpx", "requests", "aiohttp")


@dataclass(eq=False)
class Reached:
    """A layer or a driver on a route's chain, and what it names below it."""

    owner: object
    info: LayerInfo
    below: list[object] = field(default_factory=list)
    offloaded: bool = False  # reached only behind an explicit boundary (AsyncProxy)

    @property
    def name(self) -> str:
        return display_name(self.owner)

    @property
    def is_driver(self) -> bool:
        return self.info.kind == "driver"

    @property
    def family(self) -> str:
        """``sqlalchemy``, ``http`` or ``db`` for a driver; ``layer`` otherwise."""
        if not self.is_driver:
            return "layer"
        module = getattr(self.owner, "__module__", "") or ""
        if module.startswith("sqlalchemy"):
            return "sqlalchemy"
        return "http" if module.startswith(_HTTP_MODULES) else "db"

    @property
    def counterpart(self) -> str | None:
        """The driver of the other mode (``sqlalchemy.ext.asyncio.AsyncSession``)."""
        advice = self.info.advice or ""
        _, found, name = advice.rpartition(" counterpart is ")
        return name or None if found else None

    def describe(self) -> str:
        behind = " behind an explicit offload (in a worker thread)" if self.offloaded else ""
        if self.is_driver and self.info.advice:
            return f"{self.info.advice.partition(';')[0]} driver{behind}"
        return f"{self.info.role} {self.name}{behind}"


@dataclass(eq=False)
class RouteEvidence:
    """One route: its chain, what its code calls, whether it really awaits, what was unseen."""

    route: RouteReport
    router: str
    chain: dict[object, Reached] = field(default_factory=dict)
    top: list[object] = field(default_factory=list)
    cpu: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    on_loop: list[str] = field(default_factory=list)
    awaits: list[str] = field(default_factory=list)
    offloads: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    functions: list[LoopFunction] = field(default_factory=list)  # what the route runs
    layer_functions: list[LoopFunction] = field(default_factory=list)  # every chain method

    @property
    def mode(self) -> Mode | None:
        return self.route.mode

    @property
    def drivers(self) -> list[Reached]:
        return [item for item in self.chain.values() if item.is_driver]

    @property
    def layers(self) -> list[Reached]:
        return [item for item in self.chain.values() if not item.is_driver]

    def hits(self) -> Iterator[tuple[LoopFunction, Hit]]:
        for function in self.functions:
            for hit in function.hits:
                yield function, hit


def router_of(route: RouteReport) -> str:
    """``module:variable`` of the router that holds the route's endpoint, else its module."""
    endpoint = route.endpoint.call_object if route.endpoint is not None else None
    module = inspect.getmodule(endpoint) if endpoint is not None else None
    if module is None:
        return "?"
    for name, value in vars(module).items():
        routes = getattr(value, "routes", None)
        if (
            isinstance(routes, list)
            and not inspect.ismodule(value)
            and name != "app"
            and any(getattr(r, "endpoint", None) is endpoint for r in routes)
        ):
            return f"{module.__name__}:{name}"
    return module.__name__


def public_methods(cls: type) -> Iterator[tuple[str, Any]]:
    """The public functions a layer class defines itself (``__call__`` included)."""
    for name, raw in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        if inspect.isfunction(function):
            yield name, function


def _chain(route: RouteReport) -> tuple[dict[object, Reached], list[object]]:
    """Every layer and driver the route's tree reaches (and those they name), closest first.

    Also the ones the tree reaches first (no layer above them): where a plan starts.
    What is reached only below a provider handing out ``AsyncProxy[X]`` is marked
    ``offloaded``: it runs in a worker thread, behind the route's explicit boundary.
    """
    chain: dict[object, Reached] = {}
    top: list[object] = []
    pending: list[tuple[object, LayerInfo, object | None, bool]] = []
    if route.endpoint is not None:
        parents: dict[int, tuple[object | None, bool]] = {id(route.endpoint): (None, False)}
        for node in route.endpoint.walk():
            owner, offloaded = parents.get(id(node), (None, False))
            if node.layer_owner is not None and node.layer is not None:
                pending.append((node.layer_owner, node.layer, owner, offloaded))
                owner = node.layer_owner
            call = node.call_object
            offloaded = offloaded or (call is not None and refs.offload_target(call) is not None)
            for child in node.children:
                parents[id(child)] = (owner, offloaded)
    while pending:
        owner, info, parent, offloaded = pending.pop(0)
        if parent is None and owner not in top:
            top.append(owner)
        if parent is not None and parent in chain and owner not in chain[parent].below:
            chain[parent].below.append(owner)
        known = chain.get(owner)
        if known is not None:
            if offloaded or not known.offloaded:
                continue
            known.offloaded = False  # reached in the request's own mode too: say so below it
        else:
            known = chain[owner] = Reached(owner, info, offloaded=offloaded)
        if known.is_driver:
            continue
        for _, found in refs.site_references(owner):
            for item in found:
                if isinstance(item, refs.LayerReference):
                    pending.append((item.target, item.info, owner, offloaded))
    return chain, top


def _awaits(function: Any) -> list[int]:
    """Lines where ``function``'s own body awaits (``await``, ``async for``, ``async with``)."""
    code = getattr(unwrapped(function), "__code__", None)
    node = function_node(code) if isinstance(code, types.CodeType) else None
    if node is None or isinstance(node, ast.Lambda):
        return []
    lines: list[int] = []
    pending: list[ast.AST] = list(node.body)
    while pending:
        item = pending.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # runs only when called: not this body's await
        if isinstance(item, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            lines.append(item.lineno)
        pending.extend(ast.iter_child_nodes(item))
    return sorted(lines)


def _span(function: Any) -> tuple[str, int, int] | None:
    code = getattr(unwrapped(function), "__code__", None)
    node = function_node(code) if isinstance(code, types.CodeType) else None
    if node is None or not isinstance(code, types.CodeType):
        return None
    return code.co_filename, node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno


class _Gathering:
    """One advise run's body analysis: the loop's roots (as ``check``), then the sync ones."""

    def __init__(self, app: Any, report: AppReport) -> None:
        self.analyzer: Analyzer = analyse_loop(app, report)
        self.roots: dict[int, list[LoopFunction]] = {}

    def add(self, key: object, func: Any, receiver: Any, mode: Mode) -> None:
        loop = self.analyzer.add(func, receiver, "async function", mode)
        if loop is not None:
            self.roots.setdefault(id(key), []).append(loop)

    def closure(self, roots: list[LoopFunction]) -> list[LoopFunction]:
        seen: dict[int, LoopFunction] = {}
        pending = list(roots)
        while pending:
            loop = pending.pop()
            if id(loop) not in seen:
                seen[id(loop)] = loop
                pending.extend(loop.callees)
        return list(seen.values())


def _where(loop: LoopFunction, hit: Hit) -> str:
    return f"{hit.blocking.what}, called by {loop.name} at {hit.path[0].site}"


def gather(app: Any, report: AppReport) -> list[RouteEvidence]:
    """The evidence for every route of ``report`` (the audit of ``app``)."""
    gathering = _Gathering(app, report)
    chains: list[tuple[RouteReport, dict[object, Reached], list[object]]] = []
    for route in report.routes:
        chain, top = _chain(route)
        chains.append((route, chain, top))
        endpoint = route.endpoint
        for node in endpoint.walk() if endpoint is not None else ():
            target = loop_target(node.call_object)
            if target is not None and node.mode is Mode.SYNC:
                gathering.add(route, target[0], target[1], Mode.SYNC)
            elif target is not None and node.mode is Mode.ASYNC:
                gathering.add(route, target[0], target[1], Mode.ASYNC)
        for reached in chain.values():
            owner = reached.owner
            if reached.is_driver or not inspect.isclass(owner):
                continue
            for _, method in public_methods(owner):
                gathering.add(owner, method, Inst(owner), reached.info.mode)
    gathering.analyzer.run()
    return [_evidence(route, chain, top, gathering) for route, chain, top in chains]


def _evidence(
    route: RouteReport, chain: dict[object, Reached], top: list[object], gathering: _Gathering
) -> RouteEvidence:
    evidence = RouteEvidence(route, router_of(route), chain, top)
    roots = list(gathering.roots.get(id(route), []))
    for owner in chain:
        roots.extend(gathering.roots.get(id(owner), []))
    evidence.layer_functions = gathering.closure(roots)
    functions = evidence.functions = _reached(route, chain, gathering)
    for loop in functions:
        holder = chain.get(getattr(loop.receiver, "cls", None))
        if holder is not None and holder.offloaded:
            continue  # runs in a worker thread, behind the route's explicit boundary
        for hit in loop.hits:
            category = hit.blocking.category
            text = _where(loop, hit)
            if category == "cpu":
                evidence.cpu.append(text)
            elif category != "layer":
                evidence.blocking.append(text)
            if loop.mode is Mode.ASYNC:  # blocks the loop: fake async (R5)
                evidence.on_loop.append(text)
    _awaited(evidence, functions)
    _offloaded(evidence)
    _unseen(evidence, functions, gathering.analyzer)
    return evidence


def _reached(
    route: RouteReport, chain: dict[object, Reached], gathering: _Gathering
) -> list[LoopFunction]:
    """What the route runs: its endpoint and dependencies, then each layer method they call.

    When the route crosses an offload or makes a call the analysis could not
    resolve, a layer on the chain none of whose methods is seen called counts with
    all of them: it may be what that call reaches.
    """
    by_name = {display_name(owner): owner for owner in chain}
    found = gathering.closure(list(gathering.roots.get(id(route), [])))
    seen = {id(loop) for loop in found}
    called: set[object] = set()
    index = 0
    while index < len(found):
        for hit in found[index].hits:
            owner = by_name.get(hit.blocking.other.name)
            if hit.blocking.category != "layer" or owner is None:
                continue
            called.add(owner)
            method = hit.blocking.short.rpartition(".")[2]
            more = [
                loop
                for loop in gathering.roots.get(id(owner), [])
                if getattr(loop.func, "__name__", None) == method
            ]
            for loop in gathering.closure(more):
                if id(loop) not in seen:
                    seen.add(id(loop))
                    found.append(loop)
        index += 1
    for loop in found:
        receiver = getattr(loop.receiver, "cls", None)
        if receiver is not None:
            called.add(receiver)
    if not _unsure(route, found, gathering.analyzer):
        return found
    for owner, reached in chain.items():
        if reached.is_driver or owner in called:
            continue
        for loop in gathering.closure(list(gathering.roots.get(id(owner), []))):
            if id(loop) not in seen:
                seen.add(id(loop))
                found.append(loop)
    return found


def _unsure(route: RouteReport, found: list[LoopFunction], analyzer: Analyzer) -> bool:
    """Whether the route crosses an offload or makes a call the analysis could not resolve."""
    endpoint = route.endpoint
    for node in endpoint.walk() if endpoint is not None else ():
        if node.call_object is not None and refs.offload_target(node.call_object) is not None:
            return True
    spans = [span for span in (_span(loop.func) for loop in found) if span is not None]
    return any(
        any(f == filename and first <= line <= last for f, first, last in spans)
        for filename, line, _ in analyzer.unresolved
    )


def _awaited(evidence: RouteEvidence, functions: list[LoopFunction]) -> None:
    """Where the route's async code awaits something that is not just more of its own code."""
    own = {getattr(loop.func, "__name__", "") for loop in functions if loop.mode is Mode.ASYNC}
    for loop in functions:
        if loop.mode is not Mode.ASYNC:
            continue
        func = unwrapped(loop.func)
        lines = _awaits(func)
        code = getattr(func, "__code__", None)
        node = function_node(code) if isinstance(code, types.CodeType) else None
        internal = set()
        if node is not None:
            for item in ast.walk(node):
                if isinstance(item, ast.Await) and isinstance(item.value, ast.Call):
                    callee = item.value.func
                    name = callee.attr if isinstance(callee, ast.Attribute) else None
                    name = callee.id if isinstance(callee, ast.Name) else name
                    if name in own:
                        internal.add(item.lineno)
        site = site_of(func)
        for line in lines:
            if line not in internal:
                evidence.awaits.append(f"{loop.name} awaits at {Site(site.file, line)}")


def _offloaded(evidence: RouteEvidence) -> None:
    """Explicit boundaries in the tree: a provider handing out ``AsyncProxy[X]``."""
    endpoint = evidence.route.endpoint
    for node in endpoint.walk() if endpoint is not None else ():
        target = refs.offload_target(node.call_object) if node.call_object is not None else None
        if target is not None:
            evidence.offloads.append(f"{node.call} hands out {target} ({node.site})")


def _unseen(evidence: RouteEvidence, functions: list[LoopFunction], analyzer: Analyzer) -> None:
    endpoint = evidence.route.endpoint
    if endpoint is None:
        evidence.unseen.append("the route has no endpoint the audit could inspect")
        return
    for node in endpoint.walk():
        if node.mode is None:
            evidence.unseen.append(f"{node.call} could not be classified ({node.site})")
    target = loop_target(endpoint.call_object)
    if target is None or not is_app_function(target[0]):
        evidence.unseen.append(f"endpoint {endpoint.call} is not the app's own code")
    spans = [span for span in (_span(loop.func) for loop in functions) if span is not None]
    for (filename, line, _), receiver in analyzer.unresolved.items():
        if any(f == filename and first <= line <= last for f, first, last in spans):
            evidence.unseen.append(f"a call on {receiver} could not be resolved")
    for loop in functions:
        if not loop.analysed and loop.reason:
            evidence.unseen.append(f"{loop.name} ({loop.site}) was not analysed: {loop.reason}")
    repositories = [item.name for item in evidence.layers if item.info.kind == "repository"]
    if repositories and not evidence.drivers and not evidence.blocking:
        evidence.unseen.append(
            f"no known driver under {', '.join(repositories[:3])}: where the data comes from "
            "was not seen (an in-memory store, or a client no table knows)"
        )
    evidence.unseen[:] = list(dict.fromkeys(evidence.unseen))
