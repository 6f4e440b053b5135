"""``install(app, cancel_on_disconnect=True)``: a request whose client goes away is cancelled.

ASGI servers do not cancel a request when its client disconnects: they tell
the app with an ``http.disconnect`` message, which only code that calls
``receive()`` ever sees.  An endpoint that awaits a slow offload never does,
so its work, its threads and its limiter tokens outlive the client.

`CancelOnDisconnect` is pure ASGI middleware.  It becomes the only reader of
the server's ``receive`` while the request runs: a watcher task reads ahead
one message at a time and hands each one, in order, to the app's
``receive`` (the body is never consumed for the app, and the server's flow
control still applies).  When it reads ``http.disconnect`` before the
response is complete, it cancels the cancel scope the request runs in: the
endpoint, its dependencies and the offloads they await are cancelled as
anyio cancels anything (a thread call's caller leaves only where its limiter
allows abandoning; a ``def`` endpoint's thread runs to its end).  Once the
last byte of the response has been handed to the server, a disconnect
cancels nothing: background tasks, which run after the response, run on.
"""

from __future__ import annotations

from asyncio import _get_running_loop as _running_asyncio_loop
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

__all__ = ["CancelOnDisconnect"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

# the last message of a response: after it, the request's own work is done
_LAST_BODY = "http.response.body"
_PATHSEND = "http.response.pathsend"


class CancelOnDisconnect:
    """ASGI middleware: cancel an HTTP request's work when its client disconnects.

    Added by ``install(app, cancel_on_disconnect=True)``; other scopes
    (websockets, lifespan) pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = _running_asyncio_loop()
        if loop is None:  # trio: an anyio task group (a few times dearer than an asyncio task)
            await self._call_in_task_group(scope, receive, send)
            return
        request = _Request(receive, send)
        with anyio.CancelScope() as request.cancel_scope:
            # a plain asyncio task: an anyio task group and its task cost ~100 µs a request
            watcher = loop.create_task(request.watch())
            try:
                await self.app(scope, request.receive, request.send)
            finally:
                request.finished = True
                watcher.cancel()  # its read is not needed any more

    async def _call_in_task_group(
        self, scope: MutableMapping[str, Any], receive: Receive, send: Send
    ) -> None:
        request = _Request(receive, send)
        error: Exception | None = None
        async with anyio.create_task_group() as tasks:
            request.cancel_scope = tasks.cancel_scope
            tasks.start_soon(request.watch)
            try:
                await self.app(scope, request.receive, request.send)
            except Exception as raised:  # re-raised as it is, not in a task group's group
                error = raised
            finally:
                request.finished = True
                tasks.cancel_scope.cancel()  # the watcher's read is not needed any more
        if error is not None:
            try:
                raise error
            finally:
                error = None  # no reference cycle through the traceback


class _Request:
    """One request's view of ``receive``: a watcher reads, the app takes in order."""

    __slots__ = (
        "_changed",
        "_receive",
        "_send",
        "cancel_scope",
        "disconnect",
        "failed",
        "finished",
        "messages",
    )

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.messages: deque[Message] = deque()
        self.disconnect: Message | None = None
        self.failed: Exception | None = None
        self.finished = False  # the response is complete (or the app returned)
        self.cancel_scope: anyio.CancelScope | None = None
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def watch(self) -> None:
        """Read the server's messages one ahead of the app, until a disconnect."""
        try:
            await self._watch()
        except Exception as error:  # the server's receive failed: the app's receive says so
            self.failed = error
            self._notify()

    async def _watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnect = message
                self._notify()
                if not self.finished and self.cancel_scope is not None:
                    self.cancel_scope.cancel()
                return
            self.messages.append(message)
            self._notify()
            # Hand over a body chunk before reading the next one (the server's flow
            # control then still applies); after the last one only a disconnect can come.
            while message.get("more_body", False) and self.messages:
                await self._changed.wait()

    async def receive(self) -> Message:
        """The app's ``receive``: the next message read, else wait; a disconnect repeats."""
        while not self.messages:
            if self.disconnect is not None:
                return self.disconnect
            if self.failed is not None:
                raise self.failed
            await self._changed.wait()
        message = self.messages.popleft()
        self._notify()
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if (kind == _LAST_BODY and not message.get("more_body", False)) or kind == _PATHSEND:
            self.finished = True  # from here on, a disconnect cancels nothing
        await self._send(message)
