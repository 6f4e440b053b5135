"""CRUD helpers, as generated apps write them: plain functions over a sync session."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Article, Follow, User
from .security import get_password_hash


def get_user_by_username(db: Session, username: str):
    return db.scalars(select(User).where(User.username == username)).first()


def create_user(db: Session, username: str, password: str) -> User:
    user = User(username=username, hashed_password=get_password_hash(password))
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


def create_article(db: Session, title: str, author_id: int) -> Article:
    article = Article(slug=title.lower().replace(" ", "-"), title=title, author_id=author_id)
    db.add(article)
    db.commit()
    db.refresh(article)
    return article


def add_follower(db: Session, follower_id: int, followed_id: int) -> None:
    db.merge(Follow(follower_id=follower_id, followed_id=followed_id))
    db.commit()


class ArticlesRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return self.db.scalar(select(func.count(Article.id))) or 0


class Repositories:
    def __init__(self, db: Session) -> None:
        self.articles = ArticlesRepository(db)
