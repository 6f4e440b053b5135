import threading
import time

import anyio

from fastapi_boundary import blocking, check_cancelled, run_blocking

steps_done = 0
legacy_finished = threading.Event()


def rebuild_index(steps: int) -> None:
    global steps_done
    for _ in range(steps):
        check_cancelled()  # raises here once the awaiting task is cancelled
        time.sleep(0.01)
        steps_done += 1


@blocking(abandon_on_cancel=True)  # the caller may leave; the thread runs on
def call_legacy_client() -> None:
    time.sleep(0.3)  # a third-party call that cannot check for cancellation
    legacy_finished.set()


async def main() -> None:
    with anyio.move_on_after(0.1):
        await run_blocking(rebuild_index, 50)
    print(f"stopped early: {steps_done < 50}")

    started = time.perf_counter()
    with anyio.move_on_after(0.05):
        await run_blocking(call_legacy_client)
    print(f"caller left at the timeout: {time.perf_counter() - started < 0.2}")
    print(f"the thread was still running: {not legacy_finished.is_set()}")
    await run_blocking(legacy_finished.wait)  # (lets the example end cleanly)
