from fastapi import FastAPI

from fastapi_boundary import AsyncRouter, SyncRouter

users = SyncRouter(prefix="/users")
events = AsyncRouter(prefix="/events")


@users.get("/{user_id}")
def read_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@events.get("/latest")
async def latest_event() -> dict[str, str]:
    return {"event": "none"}


app = FastAPI()
app.include_router(users)
app.include_router(events)
