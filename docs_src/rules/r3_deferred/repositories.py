from fastapi_boundary import AsyncRepository


class InvoiceRepository(AsyncRepository):
    async def total(self, invoice_id: int) -> int:
        return 42
