"""``to_async(service).method(...)`` is typed exactly."""

from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from typing_extensions import assert_type

from fastapi_boundary import AsyncService, SyncService, to_async

T = TypeVar("T")


class Pricing(SyncService):
    rate = 2

    def price(self, cents: int, *, quantity: int = 1) -> int:
        return cents * quantity * self.rate

    async def sneaky(self) -> int:  # E: boundary-layer-mode
        return 1


class Box(SyncService, Generic[T]):
    def __init__(self, item: T) -> None:
        self._item = item

    def get(self) -> T:
        return self._item


class Quotes(AsyncService):
    async def quote(self) -> int:
        proxy = to_async(Pricing())
        pending = proxy.price(1, quantity=2)
        assert_type(pending, Coroutine[Any, Any, int]).close()
        assert_type(await proxy.price(1), int)
        assert_type(proxy.rate, int)
        assert_type(await to_async(Box("a")).get(), str)
        await proxy.price("1")  # E: arg-type
        await proxy.sneaky()  # E: boundary-offload
        return await proxy.price(1)
