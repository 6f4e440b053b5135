"""The async session awaited: the same method names, another type."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def handler(session: AsyncSession) -> None:
    await session.execute(text("select 1"))
    await session.commit()
