"""``async def`` handed to a thread or process offload."""

import anyio.to_thread
from starlette.concurrency import run_in_threadpool

from fastapi_boundary import run_blocking, run_cpu


async def coroutine_function() -> int:
    return 1


def plain() -> int:
    return 1


async def main() -> None:
    _ = await run_blocking(coroutine_function)  # E: boundary-offload
    _ = await anyio.to_thread.run_sync(coroutine_function)  # E: boundary-offload
    _ = await run_in_threadpool(coroutine_function)  # E: boundary-offload
    _ = await run_cpu(coroutine_function)  # E: boundary-offload
    await run_blocking(plain)
    await anyio.to_thread.run_sync(plain)
    await run_in_threadpool(plain)
