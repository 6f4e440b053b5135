from fastapi import Depends

from .repositories import OrderRepository


class ReportService:
    def __init__(self, orders: OrderRepository = Depends()) -> None:
        self.orders = orders

    async def summary(self) -> dict[str, int]:
        return self.orders.totals()
