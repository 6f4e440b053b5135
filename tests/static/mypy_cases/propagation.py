"""Blocking effects that propagate: the blocking call is one or more calls deeper."""

import smtplib
import subprocess
import time

from propagation_helpers import ItemStore, format_name, render_report, save_item
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fastapi_boundary import run_blocking, run_cpu


def helper(session: Session) -> None:
    session.commit()


def render() -> str:
    return subprocess.check_output(["ls"]).decode()


async def async_helper(session: AsyncSession) -> None:
    session.add(object())
    await session.commit()


async def via_helper(session: Session) -> None:
    helper(session)  # E: boundary-blocking-call


async def via_render() -> str:
    return render()  # E: boundary-blocking-call


async def two_levels_across_modules(session: Session) -> None:
    save_item(session, "book")  # E: boundary-blocking-call
    render_report("book")  # E: boundary-blocking-call
    format_name("book")


class ItemService:
    """Not a layer either: its async method reaches the store's sync method."""

    def __init__(self, repo: ItemStore) -> None:
        self.repo = repo

    async def create(self, name: str) -> str:
        self.repo.add(name)  # E: boundary-blocking-call
        return self.repo.label(name)

    async def create_offloaded(self, name: str) -> None:
        await run_blocking(self.repo.add, name)


async def correct_twins(session: Session, async_session: AsyncSession) -> None:
    await run_blocking(helper, session)
    await run_blocking(lambda: helper(session))
    await run_blocking(save_item, session, "book")
    await run_cpu(render_report, "book")

    def inner() -> None:
        helper(session)

    await run_blocking(inner)
    await async_helper(async_session)
    async_session.add(object())
    await async_session.flush()


async def defined_later(session: Session) -> None:
    later(session)  # E: boundary-blocking-call


def later(session: Session) -> None:
    with Session() as own:
        own.commit()


class Mailer:
    def __init__(self, host: str) -> None:
        self.smtp = smtplib.SMTP(host)

    def send(self, to: str) -> None:
        self.smtp.sendmail("shop@example.com", [to], "hello")


async def constructed(host: str) -> None:
    Mailer(host)  # E: boundary-blocking-call


def ping(n: int) -> None:
    pong(n - 1)


def pong(n: int) -> None:
    if n:
        ping(n)
    else:
        time.sleep(0.1)


async def recursive() -> None:
    ping(3)  # E: boundary-blocking-call


def level_0() -> None:
    level_1()


def level_1() -> None:
    level_2()


def level_2() -> None:
    level_3()


def level_3() -> None:
    level_4()


def level_4() -> None:
    level_5()


def level_5() -> None:
    level_6()


def level_6() -> None:
    level_7()


def level_7() -> None:
    level_8()


def level_8() -> None:
    time.sleep(1)


async def deep_chains() -> None:
    level_1()  # E: boundary-blocking-call
    level_0()  # nine functions down to the sleep: past MAX_DEPTH (8), not followed


def sync_caller(session: Session) -> None:
    helper(session)
    render()


class Tools:
    @staticmethod
    def pause() -> None:
        time.sleep(0.1)

    @classmethod
    def wait(cls) -> None:
        cls.pause()


async def through_the_class() -> None:
    Tools.pause()  # E: boundary-blocking-call
    Tools.wait()  # E: boundary-blocking-call
    Tools().wait()  # E: boundary-blocking-call
