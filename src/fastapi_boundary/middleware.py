"""``BoundaryMonitorMiddleware``: the production monitor as a pure ASGI middleware.

For apps that ``install`` does not wire (another framework's app, an app
built elsewhere).  It runs the monitor — step timing, the loop-lag sentinel
task and the stall watchdog — for the life of the app's lifespan, and hands
every request straight to the app: ``__call__`` returns the app's own
coroutine, so a request pays one function call, not one more coroutine.
Reports find the route in the scope Starlette's frames hold on the stack.

    app.add_middleware(BoundaryMonitorMiddleware, config=MonitorConfig(sample_rate=0.05))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._runtime.monitor import Monitor, MonitorConfig

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

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "lifespan":
            return self._lifespan(scope, receive, send)
        return self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.monitor.lifetime(scope.get("app")):
            await self.app(scope, receive, send)
