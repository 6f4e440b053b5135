"""The bookshop over an async driver: SQLAlchemy's ``AsyncSession`` on aiosqlite.

Every layer is async and every endpoint is ``async def``: requests are
served on the event loop without a single threadpool hop.  Run it with
``uvicorn examples.async_bookshop.main:app`` or audit it with
``fastapi-boundary check examples.async_bookshop.main:app``.
"""
