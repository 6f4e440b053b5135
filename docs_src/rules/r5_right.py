import subprocess
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fastapi_boundary import run_blocking

engine = create_async_engine("sqlite+aiosqlite://")
SessionLocal = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


async def record_visit(session: AsyncSession, path: str) -> None:
    await session.execute(text("select 1"))  # stands in for an insert
    await session.commit()


def git_revision() -> str:
    return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"]).decode().strip()


app = FastAPI()


@app.get("/")
async def home(session: AsyncSession = Depends(get_session)) -> dict[str, str]:
    await record_visit(session, "/")  # awaited: the loop serves others meanwhile
    return {"revision": await run_blocking(git_revision)}  # in a worker thread
