"""What runs for the app, not a route: middleware, ``request.state``, lifespan, handlers."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fastapi_boundary import run_blocking

from .db import AsyncSessionLocal, SessionLocal, create_async_tables, engine


class LookupError_(Exception):
    pass


def write_audit(line: str) -> None:
    with open("/dev/null", "a") as log:
        log.write(line)


# --- wrong ------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    with engine.connect() as connection:  # at start-up, but on the loop all the same
        connection.execute(text("select 1"))
    yield


class AuditMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        write_audit(request.url.path)
        return await call_next(request)


class ResolveMiddleware:
    def __init__(self, app: ASGIApp, host: str = "localhost") -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket.gethostbyname(self.host)
        await self.app(scope, receive, send)


async def on_lookup_error(request: Request, error: Exception) -> JSONResponse:
    write_audit(str(error))
    return JSONResponse({"detail": str(error)}, status_code=404)


wrong = FastAPI(lifespan=lifespan)
wrong.add_middleware(AuditMiddleware)
wrong.add_middleware(ResolveMiddleware, host="localhost")
wrong.add_exception_handler(LookupError_, on_lookup_error)


@wrong.middleware("http")
async def open_session(request: Request, call_next: Any) -> Any:
    request.state.db = SessionLocal()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()


@wrong.post("/state")
async def state(request: Request) -> None:
    request.state.db.commit()


# --- right --------------------------------------------------------------------------------


@asynccontextmanager
async def async_lifespan(app: FastAPI) -> AsyncIterator[None]:
    await create_async_tables()
    yield


class AsyncAuditMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        await run_blocking(write_audit, request.url.path)
        return await call_next(request)


async def on_lookup_error_offloaded(request: Request, error: Exception) -> JSONResponse:
    await run_blocking(write_audit, str(error))
    return JSONResponse({"detail": str(error)}, status_code=404)


right = FastAPI(lifespan=async_lifespan)
right.add_middleware(AsyncAuditMiddleware)
right.add_exception_handler(LookupError_, on_lookup_error_offloaded)


@right.middleware("http")
async def open_async_session(request: Request, call_next: Any) -> Any:
    request.state.db = AsyncSessionLocal()
    try:
        return await call_next(request)
    finally:
        await request.state.db.close()


@right.post("/state")
async def state_async(request: Request) -> None:
    await request.state.db.commit()
