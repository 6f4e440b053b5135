"""What ``@blocking``/``@cpu_bound`` refuse when they decorate: async defs, closures, generators."""

from collections.abc import Iterator

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


def make_hasher(cost: int) -> object:
    @cpu_bound
    def hash_password(password: str) -> int:  # E: boundary-marker
        return len(password) * cost

    return hash_password


@cpu_bound
def chunks(n: int) -> Iterator[int]:  # E: boundary-marker
    yield n


def make_fetcher() -> object:
    @blocking
    def fetch() -> int:  # a nested @blocking function is fine: threads need no import
        return 1

    return fetch
