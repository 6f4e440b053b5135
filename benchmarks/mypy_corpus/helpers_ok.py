"""The same helpers handed to a thread: nothing blocks the loop."""

import shutil
import smtplib
import subprocess
from typing import BinaryIO

from sqlalchemy.orm import Session

from fastapi_boundary import run_blocking


def save_item(session: Session, name: str) -> None:
    session.info["last"] = name
    session.commit()


def record(session: Session, name: str) -> None:
    save_item(session, name)


def render(name: str) -> str:
    return subprocess.check_output(["echo", name]).decode()


def store_upload(upload: BinaryIO, target: BinaryIO) -> None:
    shutil.copyfileobj(upload, target)


def label(name: str) -> str:
    return name.title()


class Mailer:
    def __init__(self, host: str) -> None:
        self.host = host

    def send(self, to: str) -> None:
        with smtplib.SMTP(self.host) as smtp:
            smtp.sendmail("shop@example.com", [to], "saved")


class Orders:
    def __init__(self, session: Session, mailer: Mailer) -> None:
        self.session = session
        self.mailer = mailer

    async def place(self, name: str) -> None:
        await run_blocking(record, self.session, label(name))
        await run_blocking(self.mailer.send, "owner@example.com")


async def handler(session: Session, upload: BinaryIO, target: BinaryIO) -> str:
    await run_blocking(save_item, session, "book")
    await run_blocking(store_upload, upload, target)
    return await run_blocking(render, "book")
