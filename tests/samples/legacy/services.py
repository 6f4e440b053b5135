"""A service: async by intent, over a sync repository (the cause the audit finds)."""

from typing import Any

from fastapi import Depends

from .repositories import UserRepository


class BillingService:
    def __init__(self, users: UserRepository = Depends()) -> None:
        self.users = users

    async def charge(self, user_id: int) -> dict[str, Any]:
        return self.users.get(user_id)
