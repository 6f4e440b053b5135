"""``BoundaryMonitorMiddleware``: the production monitor as a pure ASGI middleware.

Per request it binds the ASGI scope, so detections name the route: one
context-variable set, no wrapper around ``receive`` or ``send``.  A stalled
loop's stack sample finds the route in this middleware's frame.  On the
app's lifespan it starts the monitor — step timing, the loop-lag sentinel
task and the stall watchdog — and stops it at shutdown.
``install(app, monitor=...)`` adds it; adding it by hand does the same::

    app.add_middleware(BoundaryMonitorMiddleware, config=MonitorConfig(sample_rate=0.05))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from ._monitor import Monitor, MonitorConfig, middleware_codes
from ._serving import bind_scope, unbind_scope

__all__ = ["BoundaryMonitorMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BoundaryMonitorMiddleware:
    """Watch an ASGI app for loop stalls, slow steps and offload queueing (see `MonitorConfig`).

    ``config`` defaults to ``MonitorConfig()``; a wrong value is a
    `BoundaryError` here, when the app is built, not at the first request.
    """

    def __init__(self, app: ASGIApp, config: MonitorConfig | None = None) -> None:
        self.app = app
        self.config = MonitorConfig.coerce(True if config is None else config)
        assert self.config is not None
        self.monitor = Monitor(self.config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            token = bind_scope(scope)
            try:
                await self.app(scope, receive, send)
            finally:
                unbind_scope(token)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app's lifespan with the monitor on, the sentinel a task beside it."""
        monitor = self.monitor
        if monitor.running:  # the same middleware serving a second lifespan: one monitor
            await self.app(scope, receive, send)
            return
        monitor.start(scope.get("app"))
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(monitor.sentinel)
                try:
                    await self.app(scope, receive, send)
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            monitor.stop()


middleware_codes.add(BoundaryMonitorMiddleware.__call__.__code__)
