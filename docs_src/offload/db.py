"""The database engine and its thread limiter: declared once, imported where they are used."""

from sqlalchemy import create_engine

from fastapi_boundary import Limiter

# A pool of 5 connections and no overflow; the engine connects on first use only.
engine = create_engine("sqlite:///shop.db", pool_size=5, max_overflow=0)

# Sized from the pool: 5 threads, one per connection the pool can hand out.
db = Limiter("db", pool=engine)
