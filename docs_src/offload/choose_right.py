import json
from pathlib import Path

import anyio

from fastapi_boundary import run_blocking, run_cpu

from .cpu import checksum

PRICES = Path(__file__).with_name("prices.json")


async def fetch_rate(currency: str) -> float:
    """Async I/O (an httpx.AsyncClient call in real code)."""
    await anyio.sleep(0.01)
    return {"EUR": 0.5}[currency]


def read_prices(path: Path) -> dict[str, float]:
    """Blocking I/O: a file read (or a sync SQLAlchemy query)."""
    prices: dict[str, float] = json.loads(path.read_text())
    return prices


async def main() -> None:
    rate = await fetch_rate("EUR")  # async I/O: await it, no offload
    prices = await run_blocking(read_prices, PRICES)  # blocking I/O: a worker thread
    local = {name: round(price * rate, 2) for name, price in prices.items()}
    payload = json.dumps(local, sort_keys=True).encode()
    signature = await run_cpu(checksum, payload, rounds=50_000)  # CPU: a worker process
    print(local)
    print(signature)
