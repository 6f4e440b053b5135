"""Which request is being served: the route a detection is attributed to.

A context variable holds the ASGI scope of the request in progress; the
route template is read from it only when something is reported (Starlette
puts the matched route in ``scope["route"]`` after routing), so binding it
costs one ``ContextVar.set`` per request.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

__all__ = [
    "bind_scope",
    "current_route",
    "route_here",
    "route_label",
    "route_on_stack",
    "unbind_scope",
]

_scope: ContextVar[Any] = ContextVar("fastapi_boundary_scope", default=None)


def bind_scope(scope: Any) -> Token[Any]:
    """Mark ``scope`` as the request this task serves; pass the token to `unbind_scope`."""
    return _scope.set(scope)


def unbind_scope(token: Token[Any]) -> None:
    _scope.reset(token)


def route_label(scope: Any) -> str | None:
    """``"GET /items/{item_id}"`` — method and path *template*, never the query or body."""
    if not isinstance(scope, dict) or scope.get("type") not in ("http", "websocket"):
        return None
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path is None:
        path = "<unmatched route>"
    method = scope.get("method", "WEBSOCKET") if scope["type"] == "http" else "WEBSOCKET"
    return f"{method} {scope.get('root_path', '')}{path}" if route is None else f"{method} {path}"


def current_route() -> str | None:
    """The route of the request this task is serving, or ``None`` outside a request."""
    scope = _scope.get()
    return None if scope is None else route_label(scope)


def route_on_stack(frame: FrameType | None) -> str | None:
    """The route of the innermost ASGI ``scope`` local on the stack from ``frame`` outwards.

    Starlette's and FastAPI's frames that serve a request hold its scope in a
    local named ``scope``; reading it when a report is made (or from a stall's
    stack sample, in another thread) names the route without anything bound
    per request.
    """
    while frame is not None:
        if "scope" in frame.f_code.co_varnames:
            try:
                scope = frame.f_locals.get("scope")
            except Exception:  # a frame finishing under a sampling thread
                scope = None
            label = route_label(scope)
            if label is not None:
                return label
        frame = frame.f_back
    return None


def route_here() -> str | None:
    """`current_route`, else the route found on the calling thread's stack."""
    return current_route() or route_on_stack(sys._getframe(1))
