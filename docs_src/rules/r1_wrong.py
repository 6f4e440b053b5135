from fastapi_boundary import AsyncService, SyncService


class ReportService(SyncService, AsyncService):
    def monthly(self, month: str) -> dict[str, int]:
        return {"month": len(month)}
