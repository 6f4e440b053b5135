import os

DATABASE_URL = os.environ.get("CONDUIT_DATABASE_URL", "sqlite://")
ASYNC_DATABASE_URL = os.environ.get("CONDUIT_ASYNC_DATABASE_URL", "sqlite+aiosqlite://")
SECRET_KEY = os.environ.get("CONDUIT_SECRET_KEY", "change-me")
