from fastapi_boundary import SyncRepository


class UserRepository(SyncRepository):
    def __init__(self) -> None:
        self._rows: dict[int, str] = {1: "ada"}

    async def get(self, user_id: int) -> str | None:
        return self._rows.get(user_id)
