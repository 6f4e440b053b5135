"""Which request is being served: the route a detection is attributed to.

A context variable holds the ASGI scope of the request in progress; the
route template is read from it only when something is reported (Starlette
puts the matched route in ``scope["route"]`` after routing), so binding it
costs one ``ContextVar.set`` per request.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

__all__ = ["bind_scope", "current_route", "route_label", "unbind_scope"]

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
