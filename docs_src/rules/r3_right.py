from fastapi_boundary import AsyncRepository, AsyncService


class UserRepository(AsyncRepository):
    async def get(self, user_id: int) -> str | None:
        return {1: "ada"}.get(user_id)


class UserService(AsyncService):
    def __init__(self, repo: UserRepository) -> None:
        self.repo = repo

    async def name_of(self, user_id: int) -> str | None:
        return await self.repo.get(user_id)
