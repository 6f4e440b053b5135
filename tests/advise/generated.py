"""A small but real app with a route for every row of the guide's decision matrix.

Written to a temporary folder as a package (``write_app``), so a test can copy it,
apply a migration plan to the copy and audit the result.  SQLAlchemy sync over
SQLite and SQLAlchemy async over aiosqlite, a sync HTTP-free CPU route, an async
HTTP client, an in-memory CRUD repository, an aiosqlite connection, and two
``async def`` routes that await nothing (premature async).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

FILES: dict[str, str] = {
    "__init__.py": "",
    "db.py": '''
        """Both engines: the classic (sync) one and the async one, over SQLite."""

        from collections.abc import AsyncIterator, Iterator

        import aiosqlite
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import Session, sessionmaker
        from sqlalchemy.pool import StaticPool

        engine = create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        SessionLocal = sessionmaker(engine)
        async_engine = create_async_engine("sqlite+aiosqlite://")
        AsyncSessionLocal = async_sessionmaker(async_engine)


        def get_session() -> Iterator[Session]:
            with SessionLocal() as session:
                yield session


        async def get_async_session() -> AsyncIterator[AsyncSession]:
            async with AsyncSessionLocal() as session:
                yield session


        async def get_connection() -> AsyncIterator[aiosqlite.Connection]:
            async with aiosqlite.connect(":memory:") as connection:
                yield connection
    ''',
    "models.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(50))
            category_id: Mapped[int] = mapped_column(default=0)


        class Category(Base):
            __tablename__ = "categories"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(50))
    """,
    "repositories.py": '''
        """Repositories: the classic ones over a Session, the async one over an AsyncSession."""

        from typing import Annotated

        import aiosqlite
        from fastapi import Depends
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import Session

        from fastapi_boundary import AsyncRepository, SyncRepository

        from .db import get_async_session, get_connection, get_session
        from .models import Category, Item


        class ItemRepository(SyncRepository):
            def __init__(self, session: Annotated[Session, Depends(get_session)]) -> None:
                self.session = session

            def get(self, item_id: int) -> Item | None:
                return self.session.get(Item, item_id)

            def list_all(self) -> list[Item]:
                return list(self.session.scalars(select(Item).order_by(Item.id)))


        class CategoryRepository(SyncRepository):
            def __init__(self, session: Annotated[Session, Depends(get_session)]) -> None:
                self.session = session

            def names(self) -> dict[int, str]:
                return {c.id: c.name for c in self.session.scalars(select(Category))}


        class AsyncItemRepository(AsyncRepository):
            def __init__(
                self, session: Annotated[AsyncSession, Depends(get_async_session)]
            ) -> None:
                self.session = session

            async def list_all(self) -> list[Item]:
                return list(await self.session.scalars(select(Item)))


        class EventRepository(AsyncRepository):
            def __init__(
                self, connection: Annotated[aiosqlite.Connection, Depends(get_connection)]
            ) -> None:
                self.connection = connection

            async def count(self) -> int:
                cursor = await self.connection.execute("select 1")
                row = await cursor.fetchone()
                return int(row[0]) if row else 0


        class NoteRepository(SyncRepository):
            notes: dict[int, str] = {1: "first"}

            def get(self, note_id: int) -> str | None:
                return self.notes.get(note_id)
    ''',
    "services.py": '''
        """Services: one per feature, each in its feature's mode."""

        import hashlib
        from typing import Annotated

        import httpx
        from fastapi import Depends

        from fastapi_boundary import AsyncService, SyncService, cpu_bound

        from .repositories import CategoryRepository, ItemRepository


        @cpu_bound
        def digest(data: bytes) -> bytes:
            return hashlib.pbkdf2_hmac("sha256", data, b"salt", 1000)


        class ItemService(SyncService):
            def __init__(
                self,
                items: Annotated[ItemRepository, Depends()],
                categories: Annotated[CategoryRepository, Depends()],
            ) -> None:
                self.items = items
                self.categories = categories

            def list_items(self) -> list[dict[str, object]]:
                names = self.categories.names()
                return [
                    {"id": item.id, "category": names.get(item.category_id)}
                    for item in self.items.list_all()
                ]

            def get_item(self, item_id: int) -> dict[str, object]:
                item = self.items.get(item_id)
                return {"id": item_id, "found": item is not None}


        class ReportService(SyncService):
            def __init__(self, categories: Annotated[CategoryRepository, Depends()]) -> None:
                self.categories = categories

            def category_count(self) -> int:
                return len(self.categories.names())


        class DigestService(SyncService):
            def hexdigest(self, text: str) -> str:
                return digest(text.encode()).hex()


        async def get_client() -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url="https://rates.invalid")


        class RatesService(AsyncService):
            def __init__(self, client: Annotated[httpx.AsyncClient, Depends(get_client)]) -> None:
                self.client = client

            async def rate(self, currency: str) -> float:
                response = await self.client.get(f"/rates/{currency}")
                return float(response.json()["rate"])
    ''',
    "routers.py": '''
        """One router per row of the decision matrix, and the premature-async routes."""

        from typing import Annotated

        from fastapi import APIRouter, Depends

        from fastapi_boundary import AsyncRouter, SyncRouter

        from .repositories import AsyncItemRepository, EventRepository, NoteRepository
        from .services import DigestService, ItemService, RatesService, ReportService

        classic = SyncRouter(prefix="/classic")
        reports = SyncRouter(prefix="/reports")
        async_db = AsyncRouter(prefix="/async")
        external = AsyncRouter(prefix="/external")
        cpu = SyncRouter(prefix="/cpu")
        crud = SyncRouter(prefix="/notes")
        events = AsyncRouter(prefix="/events")
        premature = APIRouter(prefix="/premature")


        @classic.get("/items")
        def list_items(service: Annotated[ItemService, Depends()]) -> list[dict[str, object]]:
            return service.list_items()


        @classic.get("/items/{item_id}")
        def get_item(item_id: int, service: Annotated[ItemService, Depends()]) -> dict[str, object]:
            return service.get_item(item_id)


        @reports.get("/categories")
        def category_count(service: Annotated[ReportService, Depends()]) -> int:
            return service.category_count()


        @async_db.get("/items")
        async def list_async_items(
            repository: Annotated[AsyncItemRepository, Depends()],
        ) -> int:
            return len(await repository.list_all())


        @external.get("/rates/{currency}")
        async def rate(currency: str, service: Annotated[RatesService, Depends()]) -> float:
            return await service.rate(currency)


        @cpu.post("/digest")
        def make_digest(text: str, service: Annotated[DigestService, Depends()]) -> str:
            return service.hexdigest(text)


        @crud.get("/{note_id}")
        def get_note(note_id: int, notes: Annotated[NoteRepository, Depends()]) -> str | None:
            return notes.get(note_id)


        @events.get("/count")
        async def count_events(events: Annotated[EventRepository, Depends()]) -> int:
            return await events.count()


        @premature.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}


        @premature.get("/totals/{a}/{b}")
        async def totals(a: int, b: int) -> int:
            return sum(range(a, b))
    ''',
    "main.py": """
        from fastapi import FastAPI

        from . import routers

        app = FastAPI()
        app.include_router(routers.classic)
        app.include_router(routers.reports)
        app.include_router(routers.async_db)
        app.include_router(routers.external)
        app.include_router(routers.cpu)
        app.include_router(routers.crud)
        app.include_router(routers.events)
        app.include_router(routers.premature)
    """,
}


def write_app(root: Path, package: str = "shop") -> Path:
    """Write the app as ``root/package``; returns the package's folder."""
    folder = root / package
    folder.mkdir(parents=True)
    for name, source in FILES.items():
        (folder / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return folder


def apply_plan(plan: dict[str, object], root: Path) -> list[str]:
    """Apply a plan's edits (``advise --to ... --format json``) to the files under ``root``.

    As the plan says: each file's edits from the last line to the first, a replace
    before an insert on the same line, every line number the file's before any edit.
    Returns the files changed.
    """
    edits: dict[str, list[dict[str, object]]] = {}
    steps = plan["steps"]
    assert isinstance(steps, list)
    for step in steps:
        for edit in step["edits"]:
            edits.setdefault(str(edit["file"]), []).append(edit)
    for file, found in edits.items():
        path = root / file
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        ordered = sorted(
            enumerate(found),
            key=lambda item: (-int(str(item[1]["line"])), item[1]["edit"] == "insert", item[0]),
        )
        for _, edit in ordered:
            index = int(str(edit["line"])) - 1
            if edit["edit"] == "insert":
                lines[index:index] = [str(edit["text"])]
                continue
            old, new = str(edit["old"]), str(edit["new"])
            assert old in lines[index], f"{file}:{index + 1}: {old!r} not in {lines[index]!r}"
            lines[index] = lines[index].replace(old, new, 1)
        path.write_text("".join(lines), encoding="utf-8")
    return sorted(edits)
