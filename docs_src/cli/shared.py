from typing import Annotated

from fastapi import Depends, FastAPI

from fastapi_boundary import SyncRepository


class UserRepository(SyncRepository):
    def get(self, token: str) -> str:
        return {"t0k3n": "ada"}.get(token, "guest")


async def current_user(repo: Annotated[UserRepository, Depends()]) -> str:
    return repo.get("t0k3n")  # one mistake: a sync repository in an async dependency


app = FastAPI()


@app.get("/profile")
async def profile(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
    return {"user": user}


@app.get("/orders")
async def orders(user: Annotated[str, Depends(current_user)]) -> list[str]:
    return []


@app.get("/invoices")
async def invoices(user: Annotated[str, Depends(current_user)]) -> list[str]:
    return []


@app.get("/settings")
async def settings(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
    return {}


@app.get("/feed")
async def feed(user: Annotated[str, Depends(current_user)]) -> list[str]:
    return []


@app.get("/notifications")
async def notifications(user: Annotated[str, Depends(current_user)]) -> list[str]:
    return []


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
