import threading

import anyio

from fastapi_boundary import Limiter, OffloadTimeoutError, to_async

exports = Limiter("exports", size=2, timeout=1.0)  # no caller waits longer than 1 s
unblock = threading.Event()


class ReportService:
    def export(self) -> str:
        unblock.wait()  # a query that hangs: a lock held elsewhere, a dead peer
        return "report.csv"


async def main() -> None:
    service = to_async(ReportService(), limiter=exports)
    try:
        await service.export()
    except OffloadTimeoutError as error:
        print(error)
        print(f"tokens held: {exports.statistics().borrowed}")  # by the thread that runs on
    unblock.set()  # the call ends at last, and its thread gives the token back
    while exports.statistics().borrowed:
        await anyio.sleep(0.01)
    print(f"tokens held: {exports.statistics().borrowed}")
