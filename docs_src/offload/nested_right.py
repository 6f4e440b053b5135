import anyio
import anyio.from_thread

from fastapi_boundary import Limiter, blocking, run_blocking

reports = Limiter("reports", size=1)  # one thread: the nested call cannot get a second


@blocking(limiter=reports)
def load_rows() -> list[int]:
    return [3, 1, 2]


async def rows() -> list[int]:
    return await run_blocking(load_rows)  # an async helper that offloads


@blocking(limiter=reports)
def build_report() -> str:
    data = anyio.from_thread.run(rows)  # back to the event loop, which offloads again
    return ", ".join(map(str, sorted(data)))


async def main() -> None:
    with anyio.fail_after(1):
        print(await run_blocking(build_report))  # the nested offload runs on a reserved token
