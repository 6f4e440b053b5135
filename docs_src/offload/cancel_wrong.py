import time

import anyio

from fastapi_boundary import run_blocking

steps_done = 0


def rebuild_index(steps: int) -> None:
    global steps_done
    for _ in range(steps):
        time.sleep(0.01)  # one step of blocking work
        steps_done += 1


async def notify_done() -> None:
    await anyio.sleep(0)  # any await: the first moment the timeout can take effect


async def main() -> None:
    started = time.perf_counter()
    try:
        with anyio.fail_after(0.1):
            await run_blocking(rebuild_index, 50)  # the thread cannot be interrupted
            await notify_done()
    finally:
        waited = time.perf_counter() - started
        print(f"{steps_done} of 50 steps ran; the caller waited past the timeout: {waited > 0.3}")
