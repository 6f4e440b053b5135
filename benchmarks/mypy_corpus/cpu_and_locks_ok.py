"""The hash in a worker process, an async lock."""

import hashlib

import anyio

from fastapi_boundary import run_cpu


async def handler(lock: anyio.Lock, password: bytes) -> None:
    await run_cpu(hashlib.pbkdf2_hmac, "sha256", password, b"salt", 100_000)
    async with lock:
        pass
