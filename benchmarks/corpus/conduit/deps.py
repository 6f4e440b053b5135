from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .crud import Repositories
from .db import AsyncSessionLocal, SessionLocal, get_async_db, get_db
from .models import User

SessionDep = Annotated[Session, Depends(get_db)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_db)]


def get_repositories():
    return Repositories(SessionLocal())


async def get_current_user(db: SessionDep, x_user: Annotated[str, Header()] = "alice") -> User:
    user = db.get(User, 1)
    if user is None or user.username != x_user:
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    return user


def get_current_user_sync(db: SessionDep, x_user: Annotated[str, Header()] = "alice") -> User:
    user = db.get(User, 1)
    if user is None or user.username != x_user:
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    return user


async def get_async_repositories():
    async with AsyncSessionLocal() as session:
        yield session
