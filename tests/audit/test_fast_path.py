"""The fast check used at route registration agrees with the full report, route by route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fastapi_boundary import Mode
from fastapi_boundary._audit.routes import inspect_route, route_is_clean
from fastapi_boundary._common.sites import UNKNOWN
from tests.samples.drivers import get_async_session, get_session
from tests.samples.layers import (
    AsyncBookRepository,
    AsyncBookService,
    BookService,
    count_books,
    get_async_book_repository,
    get_book_service,
    helper,
)


async def async_endpoint_service(
    service: Annotated[BookService, Depends(get_book_service)],
) -> None:
    return None


def sync_endpoint_service(service: Annotated[BookService, Depends(get_book_service)]) -> None:
    return None


async def async_endpoint_async_service(service: Annotated[AsyncBookService, Depends()]) -> None:
    return None


def sync_endpoint_async_service(service: Annotated[AsyncBookService, Depends()]) -> None:
    return None


def sync_endpoint_deep(value: Annotated[int, Depends(helper)]) -> None:
    return None


def sync_endpoint_async_dependency(count: Annotated[int, Depends(count_books)]) -> None:
    return None


async def async_endpoint_session(session: Annotated[Session, Depends(get_session)]) -> None:
    return None


def sync_endpoint_async_session(
    session: Annotated[AsyncSession, Depends(get_async_session)],
) -> None:
    return None


async def async_endpoint_repo(
    repo: Annotated[AsyncBookRepository, Depends(get_async_book_repository)],
) -> None:
    return None


ENDPOINTS: list[Callable[..., Any]] = [
    async_endpoint_service,
    sync_endpoint_service,
    async_endpoint_async_service,
    sync_endpoint_async_service,
    sync_endpoint_deep,
    sync_endpoint_async_dependency,
    async_endpoint_session,
    sync_endpoint_async_session,
    async_endpoint_repo,
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("mode", [Mode.SYNC, Mode.ASYNC])
@pytest.mark.parametrize("router_dependency", [None, AsyncBookService, get_book_service])
def test_fast_path_agrees_with_the_report(
    endpoint: Callable[..., Any], mode: Mode, router_dependency: Any
) -> None:
    dependencies = [Depends(router_dependency)] if router_dependency else []
    router = APIRouter(dependencies=dependencies)
    router.add_api_route("/x", endpoint)
    route = router.routes[-1]
    report = inspect_route(route, "", (mode, "Router", UNKNOWN))
    assert report is not None
    assert route_is_clean(route, mode) is (not report.violations), report.violations


def test_the_matrix_has_both_answers() -> None:
    """A guard against a vacuous agreement test: some routes are clean, some are not."""
    answers = set()
    for endpoint in ENDPOINTS:
        router = APIRouter()
        router.add_api_route("/x", endpoint)
        answers.add(route_is_clean(router.routes[-1], Mode.SYNC))
    assert answers == {True, False}
