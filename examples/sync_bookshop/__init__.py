"""The bookshop over a blocking driver: sync SQLAlchemy, sync layers, ``def`` endpoints.

FastAPI runs every ``def`` endpoint and dependency in its threadpool, so the
blocking queries, the receipt files and the password hashes never stall the
event loop.  Run it with ``uvicorn examples.sync_bookshop.main:app`` or audit
it with ``fastapi-boundary check examples.sync_bookshop.main:app``.
"""
