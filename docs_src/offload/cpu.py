"""CPU-bound functions: defined at module level, so a worker process can import them."""

import hashlib
import os
import signal
import time
from collections.abc import Iterable

from fastapi_boundary import cpu_bound


@cpu_bound
def checksum(data: bytes, *, rounds: int = 1) -> str:
    """Hash ``data`` ``rounds`` times: pure computation, no I/O."""
    digest = data
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:16]


@cpu_bound
def price_summary(rows: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Count and total the ``(sku, price)`` rows it is given."""
    prices = [price for _, price in rows]
    return {"count": len(prices), "total": round(sum(prices), 2)}


@cpu_bound
def crunch(seconds: float) -> int:
    """Keep a core busy for ``seconds``; return how many rounds it did."""
    rounds = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        rounds += 1
    return rounds


@cpu_bound
def render_thumbnail(width: int) -> bytes:
    """Stands in for an image library; a huge width exhausts the worker's memory."""
    if width > 10_000:
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
    return b"P5 %d %d 255\n" % (width, width) + bytes(width * width)
