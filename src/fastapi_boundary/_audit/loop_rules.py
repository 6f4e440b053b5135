"""The findings of what runs on the event loop: R5, and R3 for objects that hold a driver.

Pure functions that build a `Violation`, as ``rules.py`` does for R1-R3:

- `blocking_on_loop` (R5): a function the app runs on the event loop makes
  a blocking call, directly or through the app's own sync helpers (found by
  ``bodies``);
- `held_dependency_mismatch` (R3): an endpoint or dependency receives a plain
  object whose constructor takes a layer or driver of the other mode (a
  class-based view's ``self``, a provider's ``-> ItemStore``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._common import fixes
from .._common.declarations import LayerInfo
from .._common.sites import Site, display_name, site_of
from .._common.violations import Party, Rule, Violation
from .drivers import is_library_driver
from .rules import route_r3

if TYPE_CHECKING:
    from .routes import Held

__all__ = ["Blocking", "Link", "blocking_on_loop", "held_dependency_mismatch"]


@dataclass(frozen=True)
class Link:
    """One link of a chain of calls: what is called, and the line that calls it."""

    name: str
    site: Site

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"


@dataclass(frozen=True)
class Blocking:
    """A call that blocks the thread it runs on, as the finding names it.

    ``what`` describes it (``Session.commit, a blocking db call``); ``category``
    is the catalogue's (``db``, ``cpu`` ...), ``layer`` for a sync layer's
    method, ``marked`` for a ``@blocking``/``@cpu_bound`` function; ``other`` is
    the party it stands for; ``fix`` is the way out when it is called directly.
    """

    short: str
    what: str
    category: str
    other: Party
    fix: str


def _sites(sites: Sequence[Site]) -> str:
    shown = [str(site) for site in sites[:3]]
    more = len(sites) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def blocking_on_loop(
    subject: Party,
    path: Sequence[Link],
    blocking: Blocking,
    sites: Sequence[Site],
    fix: str,
    route: str | None = None,
) -> Violation:
    """R5: ``subject``, run on the event loop, calls ``path[0]`` at ``sites``, which blocks.

    ``path`` runs from the call made in ``subject`` to the blocking call
    (each link at the line that calls it): one link for a direct call, more
    through the app's own sync helpers.
    """
    first = path[0]
    if len(path) == 1:
        how = f"it calls {blocking.what}, at {_sites(sites)}"
    else:
        between = "".join(f", which calls {link.name}" for link in path[1:-1])
        how = (
            f"it calls {first.name} at {_sites(sites)}{between}, which calls {blocking.what}, "
            f"at {path[-1].site}"
        )
    cause_chain = (f"{subject.name} ({subject.site})", *(str(link) for link in path))
    cause = f"{subject.describe()} blocks the event loop: {how}"
    if route is None:
        return Violation(Rule.R5, cause, subject, blocking.other, fix=fix, chain=cause_chain)
    return Violation(
        Rule.R5,
        f"{subject.describe()} of route {route} blocks the event loop: {how}",
        subject,
        blocking.other,
        fix=fix,
        chain=(route, *cause_chain),
        route=route,
        cause_summary=cause,
        cause_chain=cause_chain,
    )


def _party(owner: object, info: LayerInfo) -> Party:
    if info.kind == "driver" and is_library_driver(owner):
        # a library class: its module says more than a path inside site-packages
        return Party(
            info.role, display_name(owner), info.mode, Site(getattr(owner, "__module__", ""))
        )
    return Party(info.role, display_name(owner), info.mode, site_of(owner))


def held_dependency_mismatch(
    route: str, consumer: Party, chain: Sequence[str], held: Held, consumer_at: int = 0
) -> Violation:
    """R3: ``consumer`` receives a plain object that holds a layer or driver of the other mode.

    ``held.holder`` is the object's class, whose constructor (``held.via``)
    takes ``held.target``; ``chain`` runs from the endpoint through the holder
    to the target, ``chain[consumer_at:]`` from the consumer on.
    """
    other = _party(held.target, held.info)
    holder = display_name(held.holder)
    how = f", held by {holder} ({site_of(held.holder)}) through {held.via}"
    mode = consumer.mode.value if consumer.mode is not None else ""
    fix = fixes.held_dependency_fix(
        consumer.name, mode, holder, other.name, held.info.kind, held.info.advice
    )
    return route_r3(route, consumer, other, how, fix, chain, consumer_at)
