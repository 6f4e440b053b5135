from fastapi_boundary import AsyncRouter, AsyncService, SyncRouter, SyncService, layer


class ReportService(SyncService):
    """Builds reports with blocking code: runs in the threadpool."""

    def monthly(self, month: str) -> dict[str, int]:
        return {"month": len(month)}


class ReportFeed(AsyncService):
    """Streams report updates to many clients: runs on the event loop."""

    async def latest(self) -> dict[str, int]:
        return {"month": 0}


@layer("sync", kind="repository")
class LegacyArchive:
    """A class that cannot change its bases declares its mode with @layer."""

    def fetch(self, key: str) -> bytes:
        return key.encode()


reports = SyncRouter(prefix="/reports")  # def endpoints only
feed = AsyncRouter(prefix="/feed")  # async def endpoints only
