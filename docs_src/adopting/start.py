"""Start the app's lifespan (as uvicorn does) and print what the start-up check logged."""

import logging

from fastapi.testclient import TestClient


class Show(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        lines = record.getMessage().splitlines()
        print(f"{record.levelname} {record.name}: {lines[0]}")
        print(f"    ... {lines[-1]}")


logging.getLogger("fastapi_boundary").addHandler(Show())

from asgi import app  # noqa: E402

with TestClient(app) as client:
    print("started:", client.get("/health").json())
