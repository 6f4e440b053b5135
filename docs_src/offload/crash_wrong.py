from fastapi_boundary import run_cpu

from .cpu import render_thumbnail


async def main() -> None:
    print(await run_cpu(render_thumbnail, 50_000))  # the worker is killed mid-call
