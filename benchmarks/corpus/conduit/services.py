"""A service layer over the CRUD helpers: the blocking call is two calls below the endpoint."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from . import crud
from .models import Follow, User


def follow_user(db: Session, follower: str, followed: str) -> None:
    first = crud.get_user_by_username(db, follower)
    second = crud.get_user_by_username(db, followed)
    if first is not None and second is not None:
        crud.add_follower(db, first.id, second.id)


async def follow_user_async(session: AsyncSession, follower: str, followed: str) -> None:
    users = (
        await session.scalars(select(User).where(User.username.in_([follower, followed])))
    ).all()
    if len(users) == 2:
        await session.merge(Follow(follower_id=users[0].id, followed_id=users[1].id))
        await session.commit()
