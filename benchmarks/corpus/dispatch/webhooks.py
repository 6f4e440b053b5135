"""Inbound webhooks, authenticated by an API-key middleware that looks the key up per request."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.middleware.base import BaseHTTPMiddleware

from .database import ApiKey, AsyncSessionLocal, SessionLocal
from .main import async_lifespan


class APIKeyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        with SessionLocal() as db:
            key = db.scalar(select(ApiKey).where(ApiKey.key == request.headers.get("x-api-key")))
        if key is None and request.url.path != "/hooks/ping":
            return JSONResponse({"detail": "invalid key"}, status_code=401)
        return await call_next(request)


class AsyncAPIKeyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        async with AsyncSessionLocal() as db:
            key = await db.scalar(
                select(ApiKey).where(ApiKey.key == request.headers.get("x-api-key"))
            )
        if key is None and request.url.path != "/hooks/ping":
            return JSONResponse({"detail": "invalid key"}, status_code=401)
        return await call_next(request)


async def ping() -> dict[str, bool]:
    return {"pong": True}


app = FastAPI(title="Dispatch webhooks")
app.add_middleware(APIKeyMiddleware)
app.add_api_route("/hooks/ping", ping)

async_app = FastAPI(title="Dispatch webhooks (async)", lifespan=async_lifespan)
async_app.add_middleware(AsyncAPIKeyMiddleware)
async_app.add_api_route("/hooks/ping", ping)
