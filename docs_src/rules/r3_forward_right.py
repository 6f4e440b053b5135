from fastapi_boundary import SyncRepository, SyncService


class OrderService(SyncService):
    def __init__(self, repo: "OrderRepository") -> None:  # not defined yet: deferred
        self.repo = repo

    def total(self, order_id: int) -> int:
        return self.repo.get(order_id)["total"]


class OrderRepository(SyncRepository):  # the deferred check runs here, and passes
    def get(self, order_id: int) -> dict[str, int]:
        return {"id": order_id, "total": 42}
