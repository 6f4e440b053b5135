from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from .database import AsyncSessionLocal, Base, SessionLocal, async_engine, engine
from .views import async_router, router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Base.metadata.create_all(bind=engine)
    yield


@asynccontextmanager
async def async_lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with async_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield


app = FastAPI(title="Dispatch", lifespan=lifespan)


@app.middleware("http")
async def db_session_middleware(request: Request, call_next):
    request.state.db = SessionLocal()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()


app.include_router(router, prefix="/api/v1")

async_app = FastAPI(title="Dispatch (async)", lifespan=async_lifespan)


@async_app.middleware("http")
async def async_db_session_middleware(request: Request, call_next):
    request.state.db = AsyncSessionLocal()
    try:
        return await call_next(request)
    finally:
        await request.state.db.close()


async_app.include_router(async_router, prefix="/api/v1")
