from fastapi_boundary import run_blocking, run_cpu

from .cpu import checksum


def verify(digest: str) -> bool:
    """Sync code calls a @cpu_bound function directly: only async code must offload it."""
    return checksum(b"fastapi-boundary", rounds=100_000) == digest


async def main() -> None:
    digest = await run_cpu(checksum, b"fastapi-boundary", rounds=100_000)  # a worker process
    print(digest)
    print(await run_blocking(verify, digest))  # sync code (here in a thread) calls it inline
