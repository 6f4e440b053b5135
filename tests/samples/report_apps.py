"""Generated apps for the report tests: many routes, three causes.

`shared_causes_source` writes the source of a module whose ``app`` has
``users`` + ``audited`` + ``priced`` routes, each group reaching one shared
mistake (plus a few clean routes):

1. ``current_user``, an ``async def`` dependency, is handed a sync SQLAlchemy
   ``Session`` by ``get_session``.  Each ``users`` route reaches it twice
   (directly and through ``admin``), so it is 2 violations per route.
2. ``audit``, a plain ``def`` dependency, is handed ``AuditStore``, an async
   service (``audited`` routes).
3. ``pricing``, an ``async def`` dependency, is handed ``PriceService``, a sync
   service (``priced`` routes).

``padding`` blank comment lines before the causes move every line down
without changing anything else: fingerprints must not move with them.
"""

from __future__ import annotations

HEADER = """\
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from fastapi_boundary import AsyncService, SyncService
"""

CAUSES = """
def get_session() -> Iterator[Session]:
    session = Session()
    try:
        yield session
    finally:
        session.close()


async def current_user(session: Annotated[Session, Depends(get_session)]) -> str:
    return "ada"


async def admin(user: Annotated[str, Depends(current_user)]) -> str:
    return user


class AuditStore(AsyncService):
    async def record(self, event: str) -> None:
        return None


def audit(store: Annotated[AuditStore, Depends()]) -> None:
    return None


class PriceService(SyncService):
    def price(self, sku: str) -> int:
        return 1


async def pricing(prices: Annotated[PriceService, Depends()]) -> int:
    return 1  # handed PriceService (R3); calling prices.price here would block the loop too (R5)


app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
"""


def shared_causes_source(
    users: int = 200, audited: int = 120, priced: int = 50, padding: int = 0
) -> str:
    """The module's source (see the module docstring)."""
    parts = [HEADER, "".join(f"# padding {n}\n" for n in range(padding)), CAUSES]
    for n in range(users):
        parts.append(
            f'\n\n@app.get("/users/{n}")\n'
            f"async def user_{n}(\n"
            f"    user: Annotated[str, Depends(current_user)],\n"
            f"    boss: Annotated[str, Depends(admin)],\n"
            f") -> str:\n"
            f"    return user\n"
        )
    for n in range(audited):
        parts.append(
            f'\n\n@app.post("/audited/{n}")\n'
            f"def audited_{n}(logged: Annotated[None, Depends(audit)]) -> int:\n"
            f"    return {n}\n"
        )
    for n in range(priced):
        parts.append(
            f'\n\n@app.get("/priced/{n}")\n'
            f"async def priced_{n}(price: Annotated[int, Depends(pricing)]) -> int:\n"
            f"    return price\n"
        )
    return "".join(parts)
