import httpx

from fastapi_boundary import AsyncService, SyncRepository, SyncService


class UserRepository(SyncRepository):
    """Stands in for a repository over sync SQLAlchemy: plain def methods."""

    def __init__(self) -> None:
        self._names = {1: "ada", 2: "grace"}

    def get(self, user_id: int) -> str | None:
        return self._names.get(user_id)


class UserService(SyncService):
    def __init__(self, repo: UserRepository) -> None:
        self.repo = repo

    def display_name(self, user_id: int) -> str:
        return (self.repo.get(user_id) or "unknown").title()


class QuoteClient(AsyncService):
    """Calls an external HTTP API with an async client: async def methods."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def quote(self, symbol: str) -> float:
        response = await self.http.get(f"/quotes/{symbol}")
        response.raise_for_status()
        return float(response.json()["price"])
