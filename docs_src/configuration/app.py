from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import SyncRepository, SyncRouter, SyncService


class OrderRepository(SyncRepository):
    def get(self, order_id: int) -> dict[str, int]:
        return {"id": order_id, "total": 42}


class OrderService(SyncService):
    def __init__(self, repo: OrderRepository) -> None:
        self.repo = repo

    async def total(self, order_id: int) -> int:  # R2: an async def in a sync service
        return self.repo.get(order_id)["total"]


# No route reaches this service, directly or through another layer.
class ArchiveService(SyncService):
    async def purge(self) -> None:  # R2 as well, but outside the app
        return None


def get_order_service() -> OrderService:
    return OrderService(OrderRepository())


orders = SyncRouter(prefix="/orders")


@orders.get("/{order_id}")
def read_order(
    order_id: int, service: Annotated[OrderService, Depends(get_order_service)]
) -> dict[str, int]:
    return service.repo.get(order_id)


app = FastAPI()
app.include_router(orders)
