from typing import Annotated

from fastapi import Depends

from fastapi_boundary import AsyncRepository, SyncRouter


class UserRepository(AsyncRepository):
    async def get(self, user_id: int) -> str | None:
        return {1: "ada"}.get(user_id)


def get_repository() -> UserRepository:
    return UserRepository()


router = SyncRouter(prefix="/users")


@router.get("/{user_id}")
def read_user(
    user_id: int, repo: Annotated[UserRepository, Depends(get_repository)]
) -> dict[str, int]:
    return {"id": user_id}
