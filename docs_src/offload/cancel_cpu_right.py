import anyio

from fastapi_boundary import ProcessPool

from .cpu import checksum, crunch


async def main() -> None:
    async with ProcessPool(1) as pool:
        with anyio.move_on_after(0.2):
            await pool.run(crunch, 30.0)  # would keep a core busy for 30 s
        print(pool.statistics())  # the worker was killed; the next call starts another
        print(await pool.run(checksum, b"next", rounds=10))
