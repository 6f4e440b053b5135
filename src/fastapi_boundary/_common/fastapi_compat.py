"""What differs between the FastAPI releases the library supports (0.100 to the newest).

FastAPI decides, per dependant, whether to await its ``call`` or run it in
the thread pool, with its own classifier, and where that classifier lives
changed three times:

- up to 0.120: module functions in ``fastapi.dependencies.utils``
  (``is_coroutine_callable``, ``is_gen_callable``, ``is_async_gen_callable``)
  asked at solve time, on whatever ``dependant.call`` is then; an object
  whose ``__call__`` is a plain ``def`` goes to the thread pool, whatever it
  returns.  Endpoints: ``asyncio.iscoroutinefunction(dependant.call)``, once,
  when the route is built.
- 0.121 to 0.16x: ``cached_property``s of ``Dependant`` of the same names
  (from 0.123.10 on they also look through ``__wrapped__`` and
  ``functools.partial``).
- newer: module functions ``_is_coroutine_callable`` etc. in
  ``fastapi.dependencies.models``, cached per callable.

`fastapi_awaits` answers with the classifier of the installed release, so a
replacement of ``dependant.call`` (step timing) is made only where FastAPI
awaits the original, and is itself awaited on every release.

From 0.165 an included router's route is served through an effective route
context (the full path, its own ``dependant``), while ``scope["route"]``
stays the router's own route object (path without the prefixes):
`served_route` gives the one that was served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["fastapi_awaits", "served_route"]


def _classifier() -> Callable[[Any, bool], bool]:
    from fastapi.dependencies import models, utils

    if hasattr(models.Dependant, "is_coroutine_callable"):

        def by_dependant(call: Any, endpoint: bool) -> bool:
            probe: Any = models.Dependant(call=call)
            return bool(
                probe.is_coroutine_callable
                and not probe.is_gen_callable
                and not probe.is_async_gen_callable
            )

        return by_dependant
    new = getattr(models, "_is_coroutine_callable", None)
    if new is not None:
        gen = models._is_gen_callable  # type: ignore[attr-defined,unused-ignore]
        async_gen = models._is_async_gen_callable  # type: ignore[attr-defined,unused-ignore]

        def by_function(call: Any, endpoint: bool) -> bool:
            return bool(new(call) and not gen(call) and not async_gen(call))

        return by_function
    coroutine = utils.is_coroutine_callable  # type: ignore[attr-defined,unused-ignore]
    old_gen = utils.is_gen_callable  # type: ignore[attr-defined,unused-ignore]
    old_async_gen = utils.is_async_gen_callable  # type: ignore[attr-defined,unused-ignore]

    def before_0_121(call: Any, endpoint: bool) -> bool:
        if endpoint:  # decided once, in get_request_handler
            return asyncio.iscoroutinefunction(call)
        return bool(coroutine(call) and not old_gen(call) and not old_async_gen(call))

    return before_0_121


_classify: Callable[[Any, bool], bool] | None = None


def fastapi_awaits(call: Any, *, endpoint: bool) -> bool:
    """Whether the installed FastAPI awaits ``call`` as a coroutine function.

    ``endpoint``: ``call`` is a route's endpoint (older releases classify
    endpoints with another function than dependencies).  A generator
    dependency is not "awaited": FastAPI enters it as a context manager.
    """
    global _classify
    if _classify is None:
        _classify = _classifier()
    return _classify(call, endpoint)


def served_route(scope: dict[str, Any]) -> Any:
    """The route a request was served by: ``scope["route"]``, or on FastAPI >= 0.165 the
    effective context of an included router's route (whose ``path`` has the prefixes)."""
    route = scope.get("route")
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        if context is not None and getattr(context, "original_route", None) is route:
            return context
    return route
