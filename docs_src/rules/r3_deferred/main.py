from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import SyncRouter, install

from .repositories import InvoiceRepository
from .services import InvoiceService


def get_invoice_service() -> InvoiceService:
    return InvoiceService(InvoiceRepository())


router = SyncRouter(prefix="/invoices")


@router.get("/{invoice_id}")
def read_invoice(
    invoice_id: int, service: Annotated[InvoiceService, Depends(get_invoice_service)]
) -> str:
    return service.describe(invoice_id)


app = FastAPI()
app.include_router(router)
install(app)  # at start-up, check_app resolves the deferred reference and refuses to start
