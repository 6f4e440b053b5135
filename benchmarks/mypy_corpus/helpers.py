"""The blocking call one or more calls deeper, in the app's own helpers (names say nothing)."""

import shutil
import smtplib
import subprocess
from typing import BinaryIO

from sqlalchemy.orm import Session


def save_item(session: Session, name: str) -> None:
    session.info["last"] = name
    session.commit()


def record(session: Session, name: str) -> None:
    save_item(session, name)


def render(name: str) -> str:
    return subprocess.check_output(["echo", name]).decode()


def store_upload(upload: BinaryIO, target: BinaryIO) -> None:
    shutil.copyfileobj(upload, target)


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
        record(self.session, name)  # expect
        self.mailer.send("owner@example.com")  # expect


async def handler(session: Session, upload: BinaryIO, target: BinaryIO) -> str:
    save_item(session, "book")  # expect
    store_upload(upload, target)  # expect
    return render("book")  # expect
