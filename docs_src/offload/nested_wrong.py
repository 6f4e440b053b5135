import anyio
import anyio.from_thread
import anyio.to_thread

reports = anyio.CapacityLimiter(1)  # plain anyio: one token, and nothing reserved


def load_rows() -> list[int]:
    return [3, 1, 2]


async def rows() -> list[int]:
    return await anyio.to_thread.run_sync(load_rows, limiter=reports)  # waits for the token...


def build_report() -> str:
    data = anyio.from_thread.run(rows)  # ...that this thread holds while it waits
    return ", ".join(map(str, sorted(data)))


async def main() -> None:
    with anyio.fail_after(0.5):  # without a timeout this would hang forever
        print(await anyio.to_thread.run_sync(build_report, limiter=reports, abandon_on_cancel=True))
