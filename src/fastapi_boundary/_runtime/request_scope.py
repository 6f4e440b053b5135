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

from .._common.fastapi_compat import served_route

__all__ = [
    "STANDARD_METHODS",
    "bind_scope",
    "current_route",
    "method_label",
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


# RFC 9110's methods and PATCH: any other token a client sends is labelled OTHER, so that
# the values of a log field or metric label are ours to bound, not the client's to inflate
STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)


def method_label(method: object) -> str:
    """The request method as a label: one of `STANDARD_METHODS`, else ``"OTHER"``."""
    return method if isinstance(method, str) and method in STANDARD_METHODS else "OTHER"


def _mount_prefix(scope: dict[str, Any]) -> str:
    """The path of the mounts between the app and the route, read off the scope.

    Starlette's ``Mount`` appends the path it matched to ``root_path`` and keeps
    the server's own root path in ``app_root_path``; the difference is the
    mount's path (its matched value, for a mount with path parameters: the
    stack, when available, gives the template instead).
    """
    root_path = scope.get("root_path") or ""
    app_root_path = scope.get("app_root_path")
    if not isinstance(root_path, str) or not isinstance(app_root_path, str):
        return ""
    return root_path[len(app_root_path) :] if root_path.startswith(app_root_path) else ""


def route_label(scope: Any, mounts: list[str] | None = None) -> str | None:
    """``"GET /items/{item_id}"`` — method and path *template*, never the query or body.

    A route of a mounted app (``app.mount("/sub", sub_app)``) is labelled with
    the mount's path before the route's, ``mounts`` (the mounts' templates,
    outermost first) when the caller found them, else the mount prefix read
    off the scope.  A method outside `STANDARD_METHODS` reads ``OTHER``.
    """
    if not isinstance(scope, dict) or scope.get("type") not in ("http", "websocket"):
        return None
    route = served_route(scope)
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path is None:
        path = "<unmatched route>"
    method = method_label(scope.get("method")) if scope["type"] == "http" else "WEBSOCKET"
    if route is None:
        return f"{method} {scope.get('root_path', '')}{path}"
    prefix = "".join(mounts) if mounts is not None else _mount_prefix(scope)
    return f"{method} {prefix}{path}"


def current_route() -> str | None:
    """The route of the request this task is serving, or ``None`` outside a request."""
    scope = _scope.get()
    return None if scope is None else route_label(scope)


def _mount_type() -> type[Any] | None:
    try:
        from starlette.routing import Mount
    except ImportError:  # pragma: no cover - starlette comes with FastAPI
        return None
    return Mount


def route_on_stack(frame: FrameType | None) -> str | None:
    """The route of the innermost ASGI ``scope`` local on the stack from ``frame`` outwards.

    Starlette's and FastAPI's frames that serve a request hold its scope in a
    local named ``scope``; reading it when a report is made (or from a stall's
    stack sample, in another thread) names the route without anything bound
    per request.  The frames of ``Mount.handle`` further out give the mount
    templates of a route in a mounted app.
    """
    mount_type = _mount_type()
    scope: Any = None
    mounts: list[str] = []
    while frame is not None:
        code = frame.f_code
        if "scope" in code.co_varnames:
            try:
                local_scope = frame.f_locals.get("scope") if scope is None else None
                owner = frame.f_locals.get("self") if code.co_name == "handle" else None
            except Exception:  # a frame finishing under a sampling thread
                local_scope = owner = None
            if local_scope is not None and route_label(local_scope) is not None:
                scope = local_scope
            if mount_type is not None and isinstance(owner, mount_type):
                mounts.append(str(getattr(owner, "path", "")))
        frame = frame.f_back
    if scope is None:
        return None
    return route_label(scope, mounts[::-1] if mounts else None)


def route_here() -> str | None:
    """`current_route`, else the route found on the calling thread's stack."""
    return current_route() or route_on_stack(sys._getframe(1))
