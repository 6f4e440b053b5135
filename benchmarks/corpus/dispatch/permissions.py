from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import ApiKey, get_session


class BasePermission:
    def has_required_permissions(self, db: Session, request: Request) -> bool:
        raise NotImplementedError


class ApiKeyPermission(BasePermission):
    def has_required_permissions(self, db: Session, request: Request) -> bool:
        key = request.headers.get("x-api-key", "dev")
        return db.scalar(select(ApiKey).where(ApiKey.key == key)) is not None


class PermissionsDependency:
    def __init__(self, permissions_classes: list[type[BasePermission]]) -> None:
        self.permissions_classes = permissions_classes

    async def __call__(self, request: Request, db: Session = Depends(get_session)) -> None:
        for permission_class in self.permissions_classes:
            if not permission_class().has_required_permissions(db, request):
                raise HTTPException(status_code=403, detail="Forbidden")


class SyncPermissionsDependency:
    def __init__(self, permissions_classes: list[type[BasePermission]]) -> None:
        self.permissions_classes = permissions_classes

    def __call__(self, request: Request, db: Session = Depends(get_session)) -> None:
        for permission_class in self.permissions_classes:
            if not permission_class().has_required_permissions(db, request):
                raise HTTPException(status_code=403, detail="Forbidden")
