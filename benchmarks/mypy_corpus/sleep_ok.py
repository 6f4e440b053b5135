"""Async sleeps, and time.sleep where it belongs (sync code, offloaded)."""

import asyncio
import time

import anyio

from fastapi_boundary import run_blocking


async def handler() -> None:
    await asyncio.sleep(0.1)
    await anyio.sleep(0.1)
    await run_blocking(time.sleep, 0.1)


def worker() -> None:
    time.sleep(0.1)
