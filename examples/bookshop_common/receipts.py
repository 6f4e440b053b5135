"""The order receipt archive: one text file per order, in a directory.

File I/O blocks, so ``ReceiptArchive`` is a ``SyncService``, shared by both
shops.  The sync shop's ``OrderService`` calls it directly: its code already
runs in FastAPI's threadpool.  The async shop's ``OrderService`` holds
``to_async(archive)``, an ``AsyncProxy[ReceiptArchive]``, and awaits it: that
proxy is the one sanctioned boundary from async code to a sync layer.  Each
call runs in a worker thread under the archive's limiter, ``bookshop-files``,
so the disk never takes more threads than it is given.

The directory is ``BOOKSHOP_RECEIPTS_DIR`` (created if missing), else a
temporary directory created at start-up and removed at shutdown, like the
in-memory database.
"""

import os
import shutil
import tempfile
from pathlib import Path

from fastapi_boundary import Limiter, SyncService, blocking

from .models import Book, Order

RECEIPTS_DIR_ENV = "BOOKSHOP_RECEIPTS_DIR"

#: The threads that may wait on the receipt files at once (resized by ``install(limiters=)``).
FILES = Limiter("bookshop-files", size=4)


class ReceiptArchive(SyncService, limiter=FILES):
    """Receipts as ``order-<id>.txt`` files in ``directory``."""

    def __init__(self, directory: Path, *, temporary: bool = False) -> None:
        self.directory = directory
        self._temporary = temporary

    def _path(self, order_id: int) -> Path:
        return self.directory / f"order-{order_id}.txt"

    def write(self, order_id: int, text: str) -> None:
        """Store the receipt of ``order_id``; a reader sees all of it or none of it."""
        descriptor, partial = tempfile.mkstemp(
            dir=self.directory, prefix=f".order-{order_id}-", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(partial, self._path(order_id))
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def read(self, order_id: int) -> str | None:
        """The receipt of ``order_id``; ``None`` if there is none."""
        try:
            return self._path(order_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def close(self) -> None:
        """Remove the directory if it was a temporary one; keep a configured one."""
        if self._temporary:
            shutil.rmtree(self.directory, ignore_errors=True)


@blocking(limiter=FILES)
def open_receipt_archive() -> ReceiptArchive:
    """The archive in ``BOOKSHOP_RECEIPTS_DIR``, else in a new temporary directory."""
    configured = os.environ.get(RECEIPTS_DIR_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        return ReceiptArchive(directory)
    return ReceiptArchive(Path(tempfile.mkdtemp(prefix="bookshop-receipts-")), temporary=True)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def render_receipt(order: Order, book: Book) -> str:
    """The text of ``order``'s receipt (no I/O: a plain function both shops call)."""
    return (
        f"Bookshop receipt\n"
        f"order: {order.id}\n"
        f"book: {book.title} (#{book.id})\n"
        f"quantity: {order.quantity}\n"
        f"unit price: {_money(book.price_cents)}\n"
        f"total: {_money(order.total_cents)}\n"
    )
