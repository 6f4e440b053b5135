"""anyio's process API."""

import anyio


async def handler() -> None:
    await anyio.run_process(["ls"])
