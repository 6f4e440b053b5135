"""The endpoints: each fake-async one beside its correct twin."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from fastapi_boundary import run_blocking

from . import crud, security, services
from .db import AsyncSessionLocal, async_engine, get_async_db, get_db
from .deps import (
    AsyncSessionDep,
    SessionDep,
    get_current_user,
    get_current_user_sync,
    get_repositories,
)
from .models import Article, Base, User


class ArticleIn(BaseModel):
    title: str


class LoginIn(BaseModel):
    username: str
    password: str


router = APIRouter()
SEED_PASSWORD_HASH = security.get_password_hash("wonderland")


@router.get("/articles")
async def list_articles(db=Depends(get_db)):
    return [article.title for article in db.scalars(select(Article)).all()]


@router.get("/async/articles")
async def list_articles_async(db=Depends(get_async_db)):
    return [article.title for article in (await db.scalars(select(Article))).all()]


@router.get("/articles/count")
async def articles_count(repos=Depends(get_repositories)):
    return {"count": repos.articles.count()}


@router.get("/offloaded/articles/count")
async def articles_count_offloaded(repos=Depends(get_repositories)):
    return {"count": await run_blocking(repos.articles.count)}


@router.post("/articles")
async def create_article(article: ArticleIn, db: SessionDep) -> dict[str, int]:
    created = crud.create_article(db, article.title, author_id=1)
    return {"id": created.id}


@router.post("/offloaded/articles")
async def create_article_offloaded(article: ArticleIn, db: SessionDep) -> dict[str, int]:
    created = await run_in_threadpool(crud.create_article, db, article.title, 1)
    return {"id": created.id}


@router.post("/async/articles")
async def add_article_async(article: ArticleIn, session: AsyncSessionDep) -> dict[str, int]:
    created = Article(slug=article.title.lower(), title=article.title, author_id=1)
    session.add(created)
    await session.commit()
    return {"id": created.id}


@router.post("/profiles/{username}/follow")
async def follow(username: str, db: SessionDep) -> dict[str, str]:
    services.follow_user(db, "alice", username)
    return {"followed": username}


@router.post("/async/profiles/{username}/follow")
async def follow_async(username: str, session: AsyncSessionDep) -> dict[str, str]:
    await services.follow_user_async(session, "alice", username)
    return {"followed": username}


@router.post("/users/login")
async def login(credentials: LoginIn, session: AsyncSessionDep) -> dict[str, str]:
    user = await session.scalar(select(User).where(User.username == credentials.username))
    if user is None or not security.verify_password(credentials.password, user.hashed_password):
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    return {"token": user.username}


@router.post("/offloaded/users/login")
async def login_offloaded(credentials: LoginIn, session: AsyncSessionDep) -> dict[str, str]:
    user = await session.scalar(select(User).where(User.username == credentials.username))
    if user is None or not await run_blocking(
        security.verify_password, credentials.password, user.hashed_password
    ):
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    return {"token": user.username}


@router.get("/user")
async def me(user: Annotated[User, Depends(get_current_user)]) -> dict[str, str]:
    return {"username": user.username}


@router.get("/sync-dep/user")
async def me_sync(user: Annotated[User, Depends(get_current_user_sync)]) -> dict[str, str]:
    return {"username": user.username}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with async_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSessionLocal() as session:
        if await session.get(User, 1) is None:
            session.add(User(username="alice", hashed_password=SEED_PASSWORD_HASH))
            await session.commit()
    yield


app = FastAPI(title="Conduit", lifespan=lifespan)
app.include_router(router, prefix="/api")
