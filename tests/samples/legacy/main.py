"""The app: unannotated providers, a class-based view, layers declared only in configuration."""

from typing import Any

from fastapi import Depends, FastAPI

from .db import get_db
from .repositories import AuditRepository, ReportRepository, UserRepository
from .services import BillingService


def get_users(db=Depends(get_db)):  # type: ignore[no-untyped-def]
    return UserRepository(db)


async def read_user(user_id: int, users: UserRepository = Depends(get_users)) -> dict[str, Any]:
    return users.get(user_id)


async def read_legacy(user_id: int, users=Depends(get_users)) -> Any:  # type: ignore[no-untyped-def]
    return users.get(user_id)  # not annotated: only the body analysis (R5) knows what it is


async def charge(user_id: int, billing: BillingService = Depends()) -> dict[str, Any]:
    return await billing.charge(user_id)


def reports(repository: ReportRepository = Depends()) -> dict[str, int]:
    return repository.totals()


async def audit(repository: AuditRepository = Depends()) -> None:
    await repository.record("audit")


class ItemsView:
    """A class-based view: the instance is the endpoint."""

    async def __call__(self, users: UserRepository = Depends(get_users)) -> dict[str, Any]:
        return users.get(1)


async def export(users: UserRepository = Depends(get_users)) -> dict[str, Any]:
    return users.get(2)


def make_app(*, fixed: bool = False, new: bool = False) -> FastAPI:
    """The app; ``fixed`` drops the class-based view, ``new`` adds ``GET /export``."""
    app = FastAPI()
    app.add_api_route("/users/{user_id}", read_user, methods=["GET"])
    app.add_api_route("/legacy/{user_id}", read_legacy, methods=["GET"])
    app.add_api_route("/charges/{user_id}", charge, methods=["POST"])
    app.add_api_route("/reports", reports, methods=["GET"])
    app.add_api_route("/audit", audit, methods=["POST"])
    if not fixed:
        app.add_api_route("/items", ItemsView(), methods=["GET"])
    if new:
        app.add_api_route("/export", export, methods=["GET"])
    return app


app = make_app()
