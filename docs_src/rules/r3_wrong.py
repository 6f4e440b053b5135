from fastapi_boundary import AsyncService, SyncRepository


class UserRepository(SyncRepository):
    def get(self, user_id: int) -> str | None:
        return {1: "ada"}.get(user_id)


class UserService(AsyncService):
    def __init__(self, repo: UserRepository) -> None:
        self.repo = repo

    async def name_of(self, user_id: int) -> str | None:
        return self.repo.get(user_id)  # a blocking call on the event loop
