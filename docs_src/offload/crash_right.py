from fastapi_boundary import ProcessPool, WorkerCrashedError

from .cpu import render_thumbnail


async def main() -> None:
    async with ProcessPool(1) as pool:
        try:
            await pool.run(render_thumbnail, 50_000)
        except WorkerCrashedError as error:
            print(f"crashed with exit code {error.exitcode}")
        thumbnail = await pool.run(render_thumbnail, 64)  # a new worker runs it
        print(len(thumbnail), pool.statistics())
