from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import AsyncRepository, AsyncRouter


class UserRepository(AsyncRepository):
    async def get(self, user_id: int) -> str | None:
        return {1: "ada"}.get(user_id)


def get_repository() -> UserRepository:
    return UserRepository()


router = AsyncRouter(prefix="/users")


@router.get("/{user_id}")
async def read_user(
    user_id: int, repo: Annotated[UserRepository, Depends(get_repository)]
) -> dict[str, str | None]:
    return {"name": await repo.get(user_id)}


app = FastAPI()
app.include_router(router)
