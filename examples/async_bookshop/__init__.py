"""The bookshop over an async driver: SQLAlchemy's ``AsyncSession`` on aiosqlite.

Every layer is async and every endpoint is ``async def``: requests are
served on the event loop without a single threadpool hop for FastAPI's own
machinery.  What cannot be async leaves the loop at one explicit boundary:
the receipt files through ``to_async`` (worker threads, under the
``bookshop-files`` limiter), the password hashes through ``run_cpu`` (worker
processes).  Run it with ``uvicorn examples.async_bookshop.main:app`` or audit
it with ``fastapi-boundary check examples.async_bookshop.main:app``.
"""
