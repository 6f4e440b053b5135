"""The same work through anyio's async files and an explicit offload."""

import os

import anyio

from fastapi_boundary import run_blocking


async def handler(path: anyio.Path) -> str:
    await run_blocking(os.path.exists, "data.txt")
    async with await anyio.open_file("data.txt") as handle:
        await handle.read()
    return await path.read_text()
