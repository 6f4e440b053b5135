"""A per-feature migration plan: every change, in order, to move routes to the other mode.

"Migrate to async only when proven necessary, per feature, not globally."  For
the target's routes (a router, a route or an endpoint) the plan walks their
chain from the bottom up: each layer of the other mode that only this feature
reaches is moved (its base class, its public methods, the ``await``s on what
became async, its driver swapped for the counterpart), then the endpoints,
then the router.  A layer that other routes reach too is *shared*: moving it
would drag them along, so the plan names them and, towards async, keeps the
shared layer sync behind the one explicit boundary (``AsyncProxy[X]`` from a
provider returning ``to_async(...)``).  Each step says what the import-time
checks refuse until the steps above it are done.

Every change is an *edit* a machine can apply (``replace`` a text on a line,
``insert`` lines before a line), all line numbers in the files as they are now:
apply each file's edits from the last line to the first.  What cannot be
written mechanically is a ``manual`` note.
"""

from __future__ import annotations

import ast
import inspect
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._audit.bodies import Hit
from .._audit.bodies.sources import function_node, unwrapped
from .._audit.loop_functions import loop_target
from .._audit.routes import declared_route_mode
from .._common import fixes
from .._common.errors import BoundaryError
from .._common.modes import Mode
from .._common.sites import display_name, site_of
from .evidence import Reached, RouteEvidence, public_methods

__all__ = ["Edit", "Plan", "Step", "plan_migration", "select_routes"]

_BASES = {"SyncRepository", "SyncService", "AsyncRepository", "AsyncService"}


@dataclass(frozen=True)
class Edit:
    """One mechanical change: ``replace`` ``old`` by ``new`` on ``line``, or ``insert`` ``new``."""

    edit: str
    file: str
    line: int
    old: str
    new: str

    def to_dict(self) -> dict[str, Any]:
        if self.edit == "insert":
            return {"edit": "insert", "file": self.file, "line": self.line, "text": self.new}
        return {
            "edit": "replace",
            "file": self.file,
            "line": self.line,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class Step:
    """One object that changes mode, with its edits and what is refused until it is done."""

    object: str
    kind: str
    file: str
    line: int
    source: Mode
    target: Mode
    edits: list[Edit] = field(default_factory=list)
    driver: tuple[str, str] | None = None
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str | None = None

    def to_dict(self, order: int) -> dict[str, Any]:
        return {
            "order": order,
            "object": self.object,
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "from": self.source.value,
            "to": self.target.value,
            "driver": {"from": self.driver[0], "to": self.driver[1]} if self.driver else None,
            "summary": self.summary,
            "edits": [edit.to_dict() for edit in self.edits],
            "refused_until_done": list(self.refused),
            "notes": list(self.notes),
        }


@dataclass
class Plan:
    """The plan for a target: its routes, the shared layers, the steps, what is left to do."""

    target: str
    mode: Mode
    routes: list[str]
    steps: list[Step] = field(default_factory=list)
    shared: list[dict[str, Any]] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    check: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "to": self.mode.value,
            "routes": list(self.routes),
            "shared": list(self.shared),
            "steps": [step.to_dict(order) for order, step in enumerate(self.steps, 1)],
            "manual": list(self.manual),
            "then": self.check,
            "apply": "apply each file's edits from the last line to the first (replace before "
            "insert on one line); every line number is the file's before any edit",
        }


def select_routes(evidence: list[RouteEvidence], target: str) -> list[RouteEvidence]:
    """The routes a target names: a router (``module:var``), a route label or path, an endpoint."""
    chosen = [
        item
        for item in evidence
        if target
        in (
            item.router,
            item.route.label,
            item.route.path,
            item.route.endpoint.call if item.route.endpoint is not None else None,
        )
    ]
    if not chosen:
        routers = sorted({item.router for item in evidence})
        raise BoundaryError(
            f"advise --to: {target!r} names no router, route or endpoint of the app. Fix: pass a "
            f"router as module:variable ({', '.join(routers[:6])}), a route as "
            f"'GET /path', or an endpoint's name"
        )
    return chosen


# --- reading the sources ---------------------------------------------------------------------


class _Sources:
    """Each file parsed once; paths shown relative to the app's folder."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()
        self.trees: dict[str, tuple[str, ast.Module]] = {}

    def shown(self, filename: str) -> str:
        path = Path(filename).resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def tree(self, filename: str) -> tuple[str, ast.Module]:
        found = self.trees.get(filename)
        if found is None:
            try:
                text = Path(filename).read_text(encoding="utf-8")
                found = (text, ast.parse(text, filename))
            except (OSError, SyntaxError, ValueError):  # no source to edit: the step says so
                found = ("", ast.Module(body=[], type_ignores=[]))
            self.trees[filename] = found
        return found

    def text(self, filename: str, node: ast.AST) -> str:
        return ast.get_source_segment(self.tree(filename)[0], node) or ""

    def import_line(self, filename: str) -> int:
        """The line after the last top-level import: where a new import goes."""
        module = self.tree(filename)[1]
        last = 0
        for node in module.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                last = node.end_lineno or node.lineno
        return last + 1


def _class_node(sources: _Sources, cls: type) -> tuple[str, ast.ClassDef] | None:
    try:
        filename = inspect.getsourcefile(cls)
    except TypeError:
        return None
    if filename is None:
        return None
    _, module = sources.tree(filename)
    for node in ast.walk(module):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return filename, node
    return None


def _function(func: Any) -> tuple[str, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    code = getattr(unwrapped(func), "__code__", None)
    node = function_node(code) if isinstance(code, types.CodeType) else None
    if node is None or isinstance(node, ast.Lambda) or not isinstance(code, types.CodeType):
        return None
    return code.co_filename, node


# --- the planner ------------------------------------------------------------------------------


class _Planner:
    def __init__(
        self,
        evidence: list[RouteEvidence],
        chosen: list[RouteEvidence],
        mode: Mode,
        root: str,
    ) -> None:
        self.evidence, self.chosen, self.mode = evidence, chosen, mode
        self.sources = _Sources(root)
        self.chain: dict[object, Reached] = {}
        for item in chosen:
            self.chain.update(item.chain)
        labels = {item.route.label for item in chosen}
        self.others: dict[object, list[str]] = {
            owner: [
                item.route.label
                for item in evidence
                if item.route.label not in labels and owner in item.chain
            ]
            for owner in self.chain
        }
        self.moving: dict[object, Reached] = {}
        self.boundaries: dict[object, list[Reached]] = {}  # mover -> shared layers it proxies
        self.endpoint_boundaries: list[Reached] = []
        self.imports: dict[str, dict[str, str]] = {}  # file -> name -> module
        self.providers: dict[tuple[str, str], tuple[int, Step, str]] = {}
        self.moved_endpoints: list[tuple[RouteEvidence, str, ast.AST]] = []
        self.hits: dict[int, list[Hit]] = {}  # what each function calls that blocks, by function
        for item in evidence:
            for loop in (*item.functions, *item.layer_functions):
                known = self.hits.setdefault(id(unwrapped(loop.func)), [])
                known.extend(hit for hit in loop.hits if hit not in known)

    # which layers move

    def choose(self) -> None:
        pending: list[tuple[object, object | None]] = [
            (owner, None) for item in self.chosen for owner in item.top
        ]
        while pending:
            owner, parent = pending.pop(0)
            reached = self.chain.get(owner)
            if reached is None or reached.is_driver or reached.info.mode is self.mode:
                continue
            shared = bool(self.others.get(owner)) and self.mode is Mode.ASYNC
            if shared:
                if parent is None:
                    if reached not in self.endpoint_boundaries:
                        self.endpoint_boundaries.append(reached)
                else:
                    self.boundaries.setdefault(parent, []).append(reached)
                continue
            if owner in self.moving:
                continue
            self.moving[owner] = reached
            pending.extend((below, owner) for below in reached.below)

    def order(self) -> list[Reached]:
        """Movers bottom-up: a layer after every mover it names."""
        done: list[Reached] = []
        seen: set[int] = set()

        def visit(reached: Reached) -> None:
            if id(reached) in seen:
                return
            seen.add(id(reached))
            for below in reached.below:
                if below in self.moving:
                    visit(self.moving[below])
            done.append(reached)

        for reached in self.moving.values():
            visit(reached)
        return done

    # edits

    def need(self, filename: str, name: str, module: str) -> None:
        live = sys.modules.get(self._module_name(filename) or "")
        if live is not None and name in vars(live):
            return
        self.imports.setdefault(filename, {})[name] = module

    def _module_name(self, filename: str) -> str | None:
        for name, module in list(sys.modules.items()):
            if getattr(module, "__file__", None) == filename:
                return name
        return None

    def replace(self, step: Step, filename: str, line: int, old: str, new: str) -> None:
        step.edits.append(Edit("replace", self.sources.shown(filename), line, old, new))

    def def_edit(self, step: Step, filename: str, node: ast.AST) -> None:
        if self.mode is Mode.ASYNC and isinstance(node, ast.FunctionDef):
            self.replace(
                step, filename, node.lineno, f"def {node.name}(", f"async def {node.name}("
            )
        elif self.mode is Mode.SYNC and isinstance(node, ast.AsyncFunctionDef):
            self.replace(
                step, filename, node.lineno, f"async def {node.name}(", f"def {node.name}("
            )

    def await_edits(self, step: Step, func: Any, owners: set[str]) -> None:
        """``await`` the calls that became async (on ``owners``, by the body analysis's hits).

        ``owners`` are layer names (``ItemRepository``) and drivers' qualified names
        (``sqlalchemy.orm.session.Session``).  Towards sync, every ``await`` goes.
        """
        found = _function(func)
        if found is None:
            return
        filename, node = found
        body = [item for statement in node.body for item in ast.walk(statement)]
        if self.mode is Mode.SYNC:
            for item in body:
                if isinstance(item, ast.Await):
                    self.replace(step, filename, item.lineno, "await ", "")
                elif isinstance(item, (ast.AsyncWith, ast.AsyncFor)):
                    self.replace(step, filename, item.lineno, "async ", "")
            return
        calls = {
            (hit.path[0].site.line, hit.blocking.short.rpartition(".")[2])
            for hit in self.hits.get(id(unwrapped(func)), [])
            if hit.blocking.other.name in owners
            or hit.blocking.other.name.rpartition(".")[0] in owners
        }
        parents = {id(child): parent for parent in body for child in ast.iter_child_nodes(parent)}
        for item in body:
            if not isinstance(item, ast.Call) or not isinstance(item.func, ast.Attribute):
                continue
            if (item.lineno, item.func.attr) not in calls and (
                (item.end_lineno or item.lineno),
                item.func.attr,
            ) not in calls:
                continue
            if isinstance(parents.get(id(item)), ast.Await):
                continue
            text = self.sources.text(filename, item)
            if "\n" in text:
                step.notes.append(f"await the call at line {item.lineno} (it spans lines)")
                continue
            parent = parents.get(id(item))
            wrapped = isinstance(parent, (ast.Attribute, ast.Subscript)) or (
                isinstance(parent, ast.Call) and parent.func is item
            )
            new = f"(await {text})" if wrapped else f"await {text}"
            self.replace(step, filename, item.lineno, text, new)

    def layer_step(self, reached: Reached) -> Step:
        owner = reached.owner
        site = site_of(owner)
        step = Step(
            reached.name, reached.info.kind, site.file, site.line, reached.info.mode, self.mode
        )
        if not inspect.isclass(owner):
            step.notes.append(f"{reached.name} is not a class: change its mode by hand")
            return step
        found = _class_node(self.sources, owner)
        if found is None:
            step.notes.append(f"no source for {reached.name}: change it by hand")
            return step
        filename, node = found
        step.file, step.line = self.sources.shown(filename), node.lineno
        self._base_edit(step, filename, node)
        calls = self._async_calls(reached)
        for _, method in public_methods(owner):
            method_node = _function(method)
            if method_node is not None:
                self.def_edit(step, filename, method_node[1])
                self.await_edits(step, method, calls)
        self._driver_edits(step, filename, node, reached)
        for shared in self.boundaries.get(owner, []):
            self._boundary(step, filename, node, shared)
        return step

    def _base_edit(self, step: Step, filename: str, node: ast.ClassDef) -> None:
        for base in node.bases:
            text = self.sources.text(filename, base)
            if text in _BASES:
                new = ("Async" if self.mode is Mode.ASYNC else "Sync") + text.removeprefix(
                    "Async"
                ).removeprefix("Sync")
                self.replace(step, filename, base.lineno, text, new)
                self.need(filename, new, "fastapi_boundary")
                return
        for decorator in node.decorator_list:
            text = self.sources.text(filename, decorator)
            old = f'"{step.source.value}"'
            if text.startswith("layer(") and old in text:
                self.replace(step, filename, decorator.lineno, old, f'"{self.mode.value}"')
                return
        step.notes.append(f"declare {step.object} {self.mode.value} by hand")

    def _async_calls(self, reached: Reached) -> set[str]:
        """Whose calls become awaitable below a mover: the movers', the proxied, the drivers'."""
        names: set[str] = set()
        for below in reached.below:
            target = self.chain.get(below)
            if below in self.moving:
                names.add(display_name(below))
            elif target is not None and target.is_driver and target.info.mode is not self.mode:
                names.add(_qualified(below))
        names.update(shared.name for shared in self.boundaries.get(reached.owner, []))
        return names

    def _driver_edits(
        self, step: Step, filename: str, node: ast.ClassDef, reached: Reached
    ) -> None:
        for below in reached.below:
            driver = self.chain.get(below)
            if driver is None or not driver.is_driver or driver.info.mode is self.mode:
                continue
            counterpart = driver.counterpart
            short = getattr(driver.owner, "__name__", "")
            if not counterpart or "." not in counterpart or " " in counterpart:
                step.notes.append(f"replace {driver.name} with {counterpart or 'its counterpart'}")
                continue
            module, _, new_name = counterpart.rpartition(".")
            step.driver = (f"{getattr(driver.owner, '__module__', '')}.{short}", counterpart)
            provider = self._provider_of(driver)
            for argument in _init_arguments(node):
                annotation = argument.annotation
                if annotation is None:
                    continue
                text = self.sources.text(filename, annotation)
                names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
                if short not in names:
                    continue
                new = _swap_name(text, short, new_name)
                old_provider = _depends_name(annotation)
                if old_provider is not None:
                    if provider is None:
                        step.notes.append(
                            f"write a provider of {counterpart} to replace {old_provider}"
                        )
                    else:
                        new = _swap_name(new, old_provider, provider[0])
                        self.need(filename, provider[0], provider[1])
                self.replace(step, filename, annotation.lineno, text, new)
                self.need(filename, new_name, module)

    def _provider_of(self, driver: Reached) -> tuple[str, str] | None:
        """A provider of the counterpart driver the app already has: ``(name, module)``."""
        for item in self.evidence:
            endpoint = item.route.endpoint
            for node in endpoint.walk() if endpoint is not None else ():
                layer = node.layer
                if (
                    layer is not None
                    and layer.kind == "driver"
                    and node.provides
                    and layer.mode is self.mode
                    and self.chain.get(driver.owner) is not None
                    and _family(node.layer_owner) == driver.family
                    and inspect.isfunction(node.call_object)
                ):
                    call = node.call_object
                    return call.__name__, call.__module__
        return None

    def _boundary(self, step: Step, filename: str, node: ast.ClassDef, shared: Reached) -> None:
        """Keep ``shared`` sync: the mover takes ``AsyncProxy[Shared]`` from a provider."""
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        self._proxied(step, filename, _init_arguments(node), shared, first)

    def _proxied(
        self, step: Step, filename: str, arguments: list[ast.arg], shared: Reached, first: int
    ) -> None:
        """Parameters naming ``shared`` take its proxy; its provider goes before line ``first``."""
        name = getattr(shared.owner, "__name__", shared.name)
        provider = f"{_snake(name)}_async"
        for argument in arguments:
            annotation = argument.annotation
            if annotation is None or name not in {
                n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)
            }:
                continue
            text = self.sources.text(filename, annotation)
            new = f"Annotated[AsyncProxy[{name}], Depends({provider})]"
            self.replace(step, filename, annotation.lineno, text, new)
        key = (filename, provider)
        known = self.providers.get(key)
        if known is None or first < known[0]:
            self.providers[key] = (first, step, name)
        for needed, module in (
            ("Annotated", "typing"),
            ("Depends", "fastapi"),
            ("AsyncProxy", "fastapi_boundary"),
            ("to_async", "fastapi_boundary"),
        ):
            self.need(filename, needed, module)

    def provider_edits(self) -> None:
        """Each boundary provider, once per file, before the first definition that uses it."""
        for (filename, provider), (first, step, name) in self.providers.items():
            code = (
                f"def {provider}(\n"
                f"    {_snake(name)}: Annotated[{name}, Depends()],\n"
                f") -> AsyncProxy[{name}]:\n"
                f'    """The explicit boundary: {name} stays sync (other routes share it)."""\n'
                f"    return to_async({_snake(name)})\n\n\n"
            )
            step.edits.append(Edit("insert", self.sources.shown(filename), first, "", code))

    def endpoint_steps(self) -> list[Step]:
        steps: list[Step] = []
        calls = {display_name(owner) for owner in self.moving}
        calls.update(shared.name for shared in self.endpoint_boundaries)
        for item in self.chosen:
            endpoint = item.route.endpoint
            target = loop_target(endpoint.call_object) if endpoint is not None else None
            if target is None or item.route.mode is self.mode:
                continue
            func = target[0]
            found = _function(func)
            site = site_of(func)
            source = item.route.mode or Mode.SYNC
            step = Step(display_name(func), "endpoint", site.file, site.line, source, self.mode)
            steps.append(step)
            if found is None:
                step.notes.append(f"no source for {step.object}: change it by hand")
                continue
            filename, node = found
            step.file = self.sources.shown(filename)
            self.def_edit(step, filename, node)
            self.await_edits(step, func, calls)
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            arguments = node.args.args + node.args.kwonlyargs
            for shared in self.endpoint_boundaries:
                self._proxied(step, filename, arguments, shared, first)
            self.moved_endpoints.append((item, filename, node))
        return steps

    def router_steps(self) -> list[Step]:
        """The routers' class; a router that also serves other routes is split instead."""
        steps: dict[tuple[str, int], Step] = {}
        for item in self.chosen:
            endpoint = item.route.endpoint
            declared = declared_route_mode(endpoint.call_object) if endpoint is not None else None
            if declared is None or declared[0] is self.mode:
                continue
            mode, kind, site = declared
            key = (site.file, site.line)
            if key in steps:
                continue
            new_kind = ("Async" if self.mode is Mode.ASYNC else "Sync") + "Router"
            filename = str(Path(site.file).resolve())
            shown = self.sources.shown(filename)
            step = steps[key] = Step(item.router, "router", shown, site.line, mode, self.mode)
            self.need(filename, new_kind, "fastapi_boundary")
            others = [
                other.route.label
                for other in self.evidence
                if other.router == item.router and other not in self.chosen
            ]
            if not others:
                self.replace(step, filename, site.line, kind, new_kind)
            else:
                self._split(step, filename, item.router, (kind, new_kind), others)
        return list(steps.values())

    def _split(
        self, step: Step, filename: str, router: str, kinds: tuple[str, str], others: list[str]
    ) -> None:
        """A new router of the target mode beside the old one, for the moved routes only."""
        module_name, _, var = router.partition(":")
        new_var = f"{var}_{self.mode.value}"
        step.object = f"{module_name}:{new_var}"
        step.summary = (
            f"{router} also serves {', '.join(others)}: the moved routes go to a new "
            f"{kinds[1]} {new_var}, included where {var} is"
        )
        assign = next(
            (
                node
                for node in self.sources.tree(filename)[1].body
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == var for t in node.targets)
            ),
            None,
        )
        if assign is None:
            step.notes.append(f"create {new_var} = {kinds[1]}(...) beside {var} by hand")
            return
        call = self.sources.text(filename, assign.value).replace(kinds[0], kinds[1], 1)
        end = (assign.end_lineno or assign.lineno) + 1
        step.edits.append(Edit("insert", step.file, end, "", f"{new_var} = {call}\n"))
        for item, endpoint_file, node in self.moved_endpoints:
            if item.router != router or not isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            for decorator in node.decorator_list:
                if self.sources.text(endpoint_file, decorator).startswith(f"{var}."):
                    self.replace(step, endpoint_file, decorator.lineno, f"{var}.", f"{new_var}.")
        if not self._include(step, module_name, var, new_var):
            step.notes.append(f"include {new_var} in the app where {var} is included")

    def _include(self, step: Step, module_name: str, var: str, new_var: str) -> bool:
        """Include the new router right after each ``include_router`` of the old one."""
        found = False
        package = module_name.partition(".")[0]
        for name, module in list(sys.modules.items()):
            filename = getattr(module, "__file__", None)
            if name.partition(".")[0] != package or not isinstance(filename, str):
                continue
            text, tree = self.sources.tree(filename)
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Expr)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and node.value.func.attr == "include_router"
                    and node.value.args
                ):
                    continue
                argument = self.sources.text(filename, node.value.args[0])
                if argument != var and not argument.endswith(f".{var}"):
                    continue
                line = (text.splitlines() or [""])[node.lineno - 1]
                indent = line[: len(line) - len(line.lstrip())]
                statement = self.sources.text(filename, node).replace(
                    argument, argument[: len(argument) - len(var)] + new_var, 1
                )
                end = (node.end_lineno or node.lineno) + 1
                shown = self.sources.shown(filename)
                step.edits.append(Edit("insert", shown, end, "", f"{indent}{statement}\n"))
                if argument == var and name != module_name:
                    self.need(filename, new_var, module_name)
                found = True
        return found

    def import_edits(self, steps: list[Step]) -> None:
        """Imports of the names the edits use that their modules lack, on the file's first step."""
        for filename, names in self.imports.items():
            shown = self.sources.shown(filename)
            owner = next((s for s in steps if s.file == shown), steps[0] if steps else None)
            if owner is None:
                continue
            by_module: dict[str, list[str]] = {}
            for name, module in names.items():
                by_module.setdefault(module, []).append(name)
            lines = "".join(
                f"from {module} import {', '.join(sorted(found))}\n"
                for module, found in sorted(by_module.items())
            )
            owner.edits.append(Edit("insert", shown, self.sources.import_line(filename), "", lines))


def _qualified(owner: object) -> str:
    return f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', '')}"


def _family(owner: object) -> str:
    module = getattr(owner, "__module__", "") or ""
    if module.startswith("sqlalchemy"):
        return "sqlalchemy"
    return "http" if module.startswith(("httpx", "requests", "aiohttp")) else "db"


def _init_arguments(node: ast.ClassDef) -> list[ast.arg]:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return item.args.args + item.args.kwonlyargs
    return []


def _depends_name(annotation: ast.expr) -> str | None:
    for item in ast.walk(annotation):
        if (
            isinstance(item, ast.Call)
            and isinstance(item.func, ast.Name)
            and item.func.id == "Depends"
            and item.args
            and isinstance(item.args[0], ast.Name)
        ):
            return item.args[0].id
    return None


def _swap_name(text: str, old: str, new: str) -> str:
    """``old`` replaced by ``new`` where it is a whole name in ``text``."""
    import re

    return re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, text)


def _snake(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return out.lstrip("_")


def _refusals(planner: _Planner, steps: list[Step]) -> None:
    """What the import-time checks refuse while a step is done and the ones after it are not."""
    position = {step.object: index for index, step in enumerate(steps)}
    mode = planner.mode.value
    for reached in planner.moving.values():
        step_index = position.get(reached.name)
        if step_index is None:
            continue
        users = [r for r in planner.moving.values() if reached.owner in r.below]
        for user in users:
            steps[step_index].refused.append(
                f"R3 same-mode-dependencies: {user.info.role} {user.name} depends on {mode} "
                f"{reached.info.kind} {reached.name} (LayerDependencyError at import) until "
                f"step {position.get(user.name, step_index) + 1} makes {user.name} {mode}"
            )
    routers = [i for i, step in enumerate(steps) if step.kind == "router"]
    for step in steps:
        if step.kind == "endpoint" and routers:
            step.refused.append(
                f"R2 callable-mode: {fixes.a(mode)} endpoint {step.object} on a "
                f"{planner.mode.other.value} router (RouteModeError at import) until step "
                f"{routers[0] + 1} declares the router {mode}"
            )
        if step.kind != "endpoint" and step.kind != "router" and not step.refused:
            callers = [s.object for s in steps if s.kind == "endpoint"]
            if callers:
                step.refused.append(
                    f"R3 same-mode-dependencies: the {planner.mode.other.value} endpoints "
                    f"({', '.join(callers)}) depend on {mode} {step.object} (RouteModeError at "
                    f"import) until they are {mode}"
                )


def plan_migration(
    evidence: list[RouteEvidence], target: str, mode: Mode, root: str = ".", app: str = "APP"
) -> Plan:
    """The migration plan of ``target``'s routes to ``mode``."""
    chosen = select_routes(evidence, target)
    planner = _Planner(evidence, chosen, mode, root)
    planner.choose()
    steps = [planner.layer_step(reached) for reached in planner.order()]
    steps.extend(planner.endpoint_steps())
    steps.extend(planner.router_steps())
    planner.provider_edits()
    planner.import_edits(steps)
    _refusals(planner, steps)
    plan = Plan(target, mode, [item.route.label for item in chosen], steps)
    plan.check = f"fastapi-boundary check {app}"
    kept = {id(r) for r in planner.endpoint_boundaries}
    kept.update(id(r) for shared in planner.boundaries.values() for r in shared)
    for owner, routes in planner.others.items():
        reached = planner.chain[owner]
        if not routes or reached.is_driver or reached.info.mode is mode:
            continue
        if id(reached) not in kept and owner not in planner.moving:
            continue  # below a boundary: it stays as it is
        name = getattr(owner, "__name__", reached.name)
        drags = fixes.advise_plan_drags(reached.name, mode.value, ", ".join(routes))
        entry: dict[str, Any] = {
            "layer": reached.name,
            "mode": reached.info.mode.value,
            "routes": routes,
            "routers": sorted({i.router for i in evidence if i.route.label in routes}),
            "text": drags,
            "boundary": None,
        }
        if mode is Mode.ASYNC:
            entry["boundary"] = fixes.advise_plan_boundary(reached.name, f"{_snake(name)}_async")
        plan.shared.append(entry)
    for step in steps:
        plan.manual.extend(f"{step.object}: {note}" for note in step.notes)
    if planner.boundaries or planner.endpoint_boundaries:
        plan.manual.append(
            "the shared layers stay sync behind the boundary: their calls run in worker "
            "threads (size their limiter from the database pool)"
        )
    return plan
