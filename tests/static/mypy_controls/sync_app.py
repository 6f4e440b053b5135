"""Negative control: a sync app, every route a ``def`` over a sync ``Session``.

FastAPI runs each ``def`` endpoint in its threadpool: whatever blocks below
them, through however many helpers, blocks a worker thread, never the loop.
The plugin must report nothing here.
"""

import shutil
import smtplib
import subprocess
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, UploadFile
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine: Engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


class ItemStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str) -> Item:
        item = Item(name=name)
        self.session.add(item)
        self.session.commit()
        return item

    def all(self) -> list[Item]:
        return list(self.session.scalars(select(Item)))


def save(session: Session, name: str) -> Item:
    return ItemStore(session).add(name)


def notify(to: str) -> None:
    with smtplib.SMTP("mail.example.com") as smtp:
        smtp.starttls()
        smtp.sendmail("shop@example.com", [to], "saved")


def tables() -> list[str]:
    return inspect(engine).get_table_names()


router = APIRouter()


@router.post("/items")
def create_item(name: str, session: SessionDep) -> int:
    item = save(session, name)
    notify("owner@example.com")
    return item.id


@router.get("/items")
def list_items(session: SessionDep) -> list[str]:
    return [item.name for item in ItemStore(session).all()]


@router.get("/tables")
def list_tables() -> list[str]:
    return tables()


@router.get("/health")
def health(session: SessionDep) -> str:
    session.execute(text("select 1"))
    return subprocess.check_output(["uptime"]).decode()


@router.post("/upload")
def upload(file: UploadFile) -> str:
    with open("upload.bin", "wb") as target:
        shutil.copyfileobj(file.file, target)
    return "ok"


app = FastAPI()
app.include_router(router)
