from fastapi.testclient import TestClient
from shop.main import app


def test_export() -> None:
    with TestClient(app) as client:
        assert client.get("/orders/export").json() == [1, 2]


def test_totals() -> None:
    with TestClient(app) as client:
        assert client.get("/orders/totals").json() == {"orders": 3}
