from fastapi_boundary import run_cpu

from .cpu import checksum


async def main() -> None:
    digest = await run_cpu(checksum, b"fastapi-boundary", rounds=100_000)  # a worker process
    print(digest)
    print(checksum(b"fastapi-boundary", rounds=100_000) == digest)  # from sync code: inline
