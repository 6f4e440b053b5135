from fastapi_boundary import AsyncRepository, SyncService


class OrderService(SyncService):
    def __init__(self, repo: "OrderRepository") -> None:  # not defined yet: deferred
        self.repo = repo


class OrderRepository(AsyncRepository):  # the check runs here, and fails
    async def get(self, order_id: int) -> dict[str, int]:
        return {"id": order_id}
