from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import (
    AsyncProxy,
    AsyncRouter,
    AsyncService,
    SyncRepository,
    SyncService,
    run_blocking,
    to_async,
)

from .db import db


class OrderRepository(SyncRepository):
    """Stands in for a repository over a sync SQLAlchemy Session."""

    def totals(self, customer_id: int) -> list[float]:
        return {1: [120.0, 80.5], 2: [15.0]}.get(customer_id, [])


class OrderService(SyncService, limiter=db):  # offloaded calls run under the "db" limiter
    def __init__(self, repository: OrderRepository) -> None:
        self.repository = repository

    def lifetime_value(self, customer_id: int) -> float:
        return sum(self.repository.totals(customer_id))


class LoyaltyService(AsyncService):
    def __init__(self, orders: AsyncProxy[OrderService]) -> None:  # the boundary, declared
        self.orders = orders

    async def tier(self, customer_id: int) -> str:
        value = await self.orders.lifetime_value(customer_id)  # a worker thread
        return "gold" if value >= 100 else "standard"

    async def exact_value(self, customer_id: int) -> float:
        # to_async is typed loosely (Any); run_blocking keeps the method's exact types
        return await run_blocking(self.orders.wrapped.lifetime_value, customer_id)


def get_loyalty() -> LoyaltyService:
    return LoyaltyService(to_async(OrderService(OrderRepository())))


router = AsyncRouter()


@router.get("/customers/{customer_id}/tier")
async def read_tier(
    customer_id: int, loyalty: Annotated[LoyaltyService, Depends(get_loyalty)]
) -> dict[str, str]:
    return {"tier": await loyalty.tier(customer_id)}


app = FastAPI()
app.include_router(router)


async def main() -> None:
    loyalty = get_loyalty()
    print(await loyalty.tier(1), await loyalty.tier(2))
    print(await loyalty.exact_value(1))
