"""Blocking one call (or two) deeper, through the app's own sync helpers, and offloaded twins."""

import asyncio
import subprocess

import anyio.to_thread
from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fastapi_boundary import run_blocking

from .db import get_session, save_item


def helper(session: Session) -> None:
    session.commit()


def render() -> str:
    return subprocess.check_output(["echo", "rendered"]).decode()


def deeper(session):  # type: ignore[no-untyped-def]  # unannotated: the argument says what it is
    helper(session)


async def via_helper(session=Depends(get_session)) -> None:  # type: ignore[no-untyped-def]
    helper(session)


async def via_render() -> str:
    return render()


async def two_deep(session=Depends(get_session)) -> None:  # type: ignore[no-untyped-def]
    deeper(session)  # type: ignore[no-untyped-call]


# --- the twins: the blocking part runs in a worker thread -----------------------------------


async def offloaded() -> int:
    return await run_blocking(save_item, "offloaded")


async def to_thread() -> str:
    return await anyio.to_thread.run_sync(render)


async def asyncio_thread() -> str:
    return await asyncio.to_thread(render)


async def executor() -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, render)


async def threadpool() -> str:
    return await run_in_threadpool(render)


async def in_a_lambda() -> int:
    return await run_blocking(lambda: save_item("lambda"))


async def nested_def() -> int:
    def work() -> int:
        return save_item("nested")

    return await run_blocking(work)


app = FastAPI()
for endpoint in (
    via_helper,
    via_render,
    two_deep,
    offloaded,
    to_thread,
    asyncio_thread,
    executor,
    threadpool,
    in_a_lambda,
    nested_def,
):
    app.add_api_route(f"/{endpoint.__name__}", endpoint, methods=["POST"])
