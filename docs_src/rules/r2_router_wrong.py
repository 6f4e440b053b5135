from fastapi_boundary import SyncRouter

router = SyncRouter(prefix="/users")


@router.get("/{user_id}")
async def read_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}
