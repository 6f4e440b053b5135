from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_boundary import SyncService

if TYPE_CHECKING:  # imported for the type checker only: not there at run time
    from .repositories import InvoiceRepository


class InvoiceService(SyncService):
    def __init__(self, repo: InvoiceRepository) -> None:  # deferred: cannot be evaluated yet
        self.repo = repo

    def describe(self, invoice_id: int) -> str:
        return f"invoice {invoice_id}"
