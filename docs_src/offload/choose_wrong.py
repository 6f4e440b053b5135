import anyio

from fastapi_boundary import run_blocking


async def fetch_rate(currency: str) -> float:
    """Async I/O (an httpx.AsyncClient call in real code)."""
    await anyio.sleep(0.01)
    return {"EUR": 0.5}[currency]


async def main() -> None:
    rate = await run_blocking(fetch_rate, "EUR")  # a thread for async I/O
    print(rate)
