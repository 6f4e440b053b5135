"""Well-known database and network clients, and the mode each one has.

A sync SQLAlchemy ``Session`` in an async service is the same mistake as a
sync repository in an async service, one level lower, and the most costly
one FastAPI teams report.  Drivers are matched by ``module.qualname`` as the
class reports it (their modules are never imported here; a library that
re-exports a class under its top-level name is listed under both) and
through subclasses, and are checked by R3 exactly like declared layers.
"""

from __future__ import annotations

import weakref

from .._common.declarations import LayerInfo
from .._common.modes import Mode

__all__ = ["driver_info", "is_library_driver"]

_SYNC, _ASYNC = Mode.SYNC, Mode.ASYNC

# qualified class name -> (mode, readable name, what to use in the other mode)
_DRIVERS: dict[str, tuple[Mode, str, str]] = {
    "sqlalchemy.orm.session.Session": (
        _SYNC,
        "SQLAlchemy Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
    ),
    "sqlalchemy.orm.scoping.scoped_session": (
        _SYNC,
        "SQLAlchemy scoped_session",
        "sqlalchemy.ext.asyncio.async_scoped_session",
    ),
    "sqlalchemy.engine.base.Connection": (
        _SYNC,
        "SQLAlchemy Connection",
        "sqlalchemy.ext.asyncio.AsyncConnection",
    ),
    "sqlalchemy.engine.base.Engine": (
        _SYNC,
        "SQLAlchemy Engine",
        "sqlalchemy.ext.asyncio.AsyncEngine",
    ),
    "sqlalchemy.ext.asyncio.session.AsyncSession": (
        _ASYNC,
        "SQLAlchemy AsyncSession",
        "sqlalchemy.orm.Session",
    ),
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session": (
        _ASYNC,
        "SQLAlchemy async_scoped_session",
        "sqlalchemy.orm.scoped_session",
    ),
    "sqlalchemy.ext.asyncio.engine.AsyncConnection": (
        _ASYNC,
        "SQLAlchemy AsyncConnection",
        "sqlalchemy.engine.Connection",
    ),
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": (
        _ASYNC,
        "SQLAlchemy AsyncEngine",
        "sqlalchemy.engine.Engine",
    ),
    "sqlite3.Connection": (_SYNC, "sqlite3 Connection", "aiosqlite.Connection"),
    "sqlite3.Cursor": (_SYNC, "sqlite3 Cursor", "aiosqlite.Cursor"),
    "aiosqlite.core.Connection": (_ASYNC, "aiosqlite Connection", "sqlite3.Connection"),
    "aiosqlite.cursor.Cursor": (_ASYNC, "aiosqlite Cursor", "sqlite3.Cursor"),
    "psycopg.Connection": (_SYNC, "psycopg Connection", "psycopg.AsyncConnection"),
    "psycopg.AsyncConnection": (_ASYNC, "psycopg AsyncConnection", "psycopg.Connection"),
    "psycopg.connection.Connection": (_SYNC, "psycopg Connection", "psycopg.AsyncConnection"),
    "psycopg.connection_async.AsyncConnection": (
        _ASYNC,
        "psycopg AsyncConnection",
        "psycopg.Connection",
    ),
    "psycopg2.extensions.connection": (_SYNC, "psycopg2 connection", "asyncpg or psycopg 3"),
    "asyncpg.connection.Connection": (_ASYNC, "asyncpg Connection", "psycopg.Connection"),
    "asyncpg.pool.Pool": (_ASYNC, "asyncpg Pool", "psycopg_pool.ConnectionPool"),
    "pymongo.synchronous.mongo_client.MongoClient": (
        _SYNC,
        "pymongo MongoClient",
        "pymongo.AsyncMongoClient",
    ),
    "pymongo.mongo_client.MongoClient": (_SYNC, "pymongo MongoClient", "pymongo.AsyncMongoClient"),
    "motor.motor_asyncio.AsyncIOMotorClient": (
        _ASYNC,
        "motor AsyncIOMotorClient",
        "pymongo.MongoClient",
    ),
    "redis.client.Redis": (_SYNC, "redis Redis", "redis.asyncio.Redis"),
    "redis.asyncio.client.Redis": (_ASYNC, "redis.asyncio Redis", "redis.Redis"),
    "httpx.Client": (_SYNC, "httpx Client", "httpx.AsyncClient"),
    "httpx.AsyncClient": (_ASYNC, "httpx AsyncClient", "httpx.Client"),
    "httpx._client.Client": (_SYNC, "httpx Client", "httpx.AsyncClient"),
    "httpx._client.AsyncClient": (_ASYNC, "httpx AsyncClient", "httpx.Client"),
    "requests.sessions.Session": (_SYNC, "requests Session", "httpx.AsyncClient"),
    "aiohttp.client.ClientSession": (_ASYNC, "aiohttp ClientSession", "httpx.Client"),
    "smtplib.SMTP": (_SYNC, "smtplib SMTP", "aiosmtplib.SMTP"),
}

_cache: weakref.WeakKeyDictionary[type, LayerInfo | None] = weakref.WeakKeyDictionary()


def _lookup(cls: type) -> LayerInfo | None:
    for klass in cls.__mro__:
        entry = _DRIVERS.get(f"{klass.__module__}.{klass.__qualname__}")
        if entry is not None:
            mode, name, counterpart = entry
            advice = f"{mode.value} {name}; its {mode.other.value} counterpart is {counterpart}"
            return LayerInfo(mode, "driver", advice=advice)
    return None


def is_library_driver(cls: object) -> bool:
    """True for a listed driver class itself (not a project's subclass of one)."""
    module, qualname = getattr(cls, "__module__", ""), getattr(cls, "__qualname__", "")
    return f"{module}.{qualname}" in _DRIVERS


def driver_info(cls: type) -> LayerInfo | None:
    """The mode of a known driver class (or a subclass of one); ``None`` otherwise."""
    try:
        return _cache[cls]
    except KeyError:
        pass
    except TypeError:  # unhashable metaclass instance
        return _lookup(cls)
    info = _cache[cls] = _lookup(cls)
    return info
