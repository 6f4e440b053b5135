"""``@blocking``/``@cpu_bound`` on an ``async def``."""

from fastapi_boundary import blocking, cpu_bound


@blocking
async def fetch() -> None:  # E: boundary-marker
    pass


@blocking(limiter="db")
async def fetch_limited() -> None:  # E: boundary-marker
    pass


@cpu_bound
async def crunch() -> None:  # E: boundary-marker
    pass


@blocking
def read() -> bytes:
    return b""


@cpu_bound
def work(n: int) -> int:
    return n
