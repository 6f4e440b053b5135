"""Receivers mypy types ``Any``: unannotated ``Depends`` parameters, typed by their provider;
and an abstract method whose override blocks."""

from depends_providers import get_async_session, get_db, get_repositories, get_session
from fastapi import Depends
from sqlalchemy.orm import Session

from fastapi_boundary import run_blocking


class Client:
    def fetch(self) -> bytes:
        with open("/dev/null", "rb") as file:
            return file.read()


def make_client():  # type: ignore[no-untyped-def]  # same module, no annotation
    return Client()


async def unannotated(db=Depends(get_db)):  # type: ignore[no-untyped-def]
    db.commit()  # E: boundary-blocking-call


async def entered(session=Depends(get_session)):  # type: ignore[no-untyped-def]
    return session.scalars("select 1").all()  # E: boundary-blocking-call


async def provider_without_annotation(repos=Depends(get_repositories)):  # type: ignore[no-untyped-def]
    return repos.articles.count()  # E: boundary-blocking-call


async def local_provider(client=Depends(make_client)):  # type: ignore[no-untyped-def]
    return client.fetch()  # E: boundary-blocking-call


async def twins(  # type: ignore[no-untyped-def]
    db=Depends(get_async_session), repos=Depends(get_repositories), client=Depends(make_client)
):
    db.add(object())  # sync, but no I/O
    await db.commit()
    await run_blocking(repos.articles.count)
    await run_blocking(lambda: client.fetch())


class BasePermission:
    def allowed(self, session: Session) -> bool:
        raise NotImplementedError


class ReadPermission(BasePermission):
    def allowed(self, session: Session) -> bool:
        return session.get(Client, 1) is not None


class Permissions:
    def __init__(self, permissions: list[type[BasePermission]]) -> None:
        self.permissions = permissions

    async def __call__(self, session: Session) -> None:
        for permission in self.permissions:
            permission().allowed(session)  # E: boundary-blocking-call

    async def offloaded(self, session: Session) -> None:
        for permission in self.permissions:
            await run_blocking(permission().allowed, session)
