"""An async client, and a blocking client offloaded."""

import httpx
import requests

from fastapi_boundary import run_blocking


async def handler() -> None:
    async with httpx.AsyncClient() as client:
        await client.get("https://example.org")
    await run_blocking(requests.get, "https://example.org")
