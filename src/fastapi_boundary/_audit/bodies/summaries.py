"""What a call finds: blocking hits, a body's summary, and the functions run on the loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..._common.modes import Mode
from ..._common.sites import Site, display_name, site_of
from ..._common.violations import Party
from ..loop_rules import Blocking, Link
from .values import Value, first_useful

#: How many of the app's own sync functions deep a call is followed below a function on the loop.
MAX_DEPTH = 4


# --- what a call finds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A blocking call reached from a body: ``path[0]`` is called there, at its site."""

    path: tuple[Link, ...]
    blocking: Blocking


@dataclass
class Summary:
    """What one walk of one body found."""

    hits: list[Hit] = field(default_factory=list)
    returns: list[Value] = field(default_factory=list)
    yields: list[Value] = field(default_factory=list)
    self_attrs: dict[str, Value] = field(default_factory=dict)
    started: list[LoopFunction] = field(default_factory=list)

    def result(self, generator: bool) -> Value | None:
        return first_useful(self.yields if generator else self.returns)


#: Roles, from the most to the least specific: a function found twice keeps the first.
ROLES = (
    "async endpoint",
    "async dependency",
    "middleware",
    "exception handler",
    "lifespan",
    "startup handler",
    "shutdown handler",
    "background task",
    "async method",
    "async function",
)
#: Roles whose function FastAPI or Starlette would run in the threadpool if it were a def.
DEF_ROLES = frozenset(
    {"async endpoint", "async dependency", "exception handler", "background task"}
)


@dataclass(eq=False)
class LoopFunction:
    """A function the app runs on the event loop: a root (endpoint, middleware ...) or reached.

    ``routes`` are the routes that run it (filled in after the analysis);
    ``app_wide`` when middleware runs it (every route), ``app_level`` when it
    runs for the app rather than a route (middleware, lifespan, handlers).
    """

    func: Any
    receiver: Value | None
    role: str
    mode: Mode = Mode.ASYNC
    hits: list[Hit] = field(default_factory=list)
    callees: list[LoopFunction] = field(default_factory=list)
    yields: list[Value] = field(default_factory=list)
    analysed: bool = False
    reason: str | None = None
    routes: dict[int, Any] = field(default_factory=dict)
    app_wide: bool = False
    app_level: bool = False
    bound: dict[str, Value] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_name(self.func)

    @property
    def site(self) -> Site:
        return site_of(self.func)

    @property
    def can_be_def(self) -> bool:
        return self.role in DEF_ROLES

    def party(self) -> Party:
        return Party(self.role, self.name, self.mode, self.site)


def iter_hits(loop: LoopFunction) -> Iterator[tuple[str, list[Hit]]]:
    """A function's blocking calls, grouped by what it calls (``helper``, ``Session.commit``)."""
    groups: dict[str, list[Hit]] = {}
    for hit in loop.hits:
        groups.setdefault(hit.path[0].name, []).append(hit)
    yield from groups.items()
