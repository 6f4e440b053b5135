"""SyncRouter / AsyncRouter check each endpoint and its whole dependency tree on add."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from fastapi.testclient import TestClient

from fastapi_boundary import (
    AsyncRouter,
    AsyncService,
    BoundaryError,
    BoundaryWarning,
    RouteModeError,
    SyncRepository,
    SyncRouter,
    check_app,
    configure,
)
from tests.samples.layers import (
    AsyncBookService,
    BookService,
    count_books,
    get_book_service,
    helper,
)

THIS_FILE = "tests/audit/test_routing.py"


def test_clean_routers_serve_requests() -> None:
    sync_router = SyncRouter(prefix="/sync")

    @sync_router.get("/count")
    def count(service: Annotated[BookService, Depends(get_book_service)]) -> int:
        return service.count()

    async_router = AsyncRouter(prefix="/async")

    @async_router.get("/count")
    async def async_count(service: Annotated[AsyncBookService, Depends()]) -> int:
        return await service.count()

    app = FastAPI()
    app.include_router(sync_router)
    app.include_router(async_router)
    with TestClient(app) as client:
        assert client.get("/sync/count").json() == 3
        assert client.get("/async/count").json() == 4
    report = check_app(app)
    assert report.ok, report.violations
    modes = {route.path: (route.mode, route.declared_mode) for route in report.routes}
    assert modes["/sync/count"] == (modes["/sync/count"][1], modes["/sync/count"][1])
    assert str(modes["/sync/count"][0]) == "sync"
    assert str(modes["/async/count"][0]) == "async"


def test_async_endpoint_on_sync_router_is_refused_and_rolled_back() -> None:
    router = SyncRouter()
    with pytest.raises(RouteModeError) as caught:

        @router.get("/books")
        async def list_books() -> list[int]:
            return []

    message = str(caught.value)
    assert message.startswith("R2 callable-mode: endpoint list_books (")
    assert f"{THIS_FILE}:" in message
    assert "of route GET /books is an async def" in message
    assert f"its router is a SyncRouter (sync) created at {THIS_FILE}:" in message
    assert "fix: make list_books a plain def" in message
    assert router.routes == []


def test_sync_endpoint_on_async_router() -> None:
    router = AsyncRouter()
    with pytest.raises(RouteModeError, match="fix: make read an async def"):

        @router.post("/books")
        def read() -> None: ...


def test_async_route_over_a_sync_service_names_the_chain() -> None:
    router = AsyncRouter()
    with pytest.raises(RouteModeError) as caught:

        @router.get("/count")
        async def count(service: Annotated[BookService, Depends(get_book_service)]) -> int:
            return 0

    message = str(caught.value)
    assert message.startswith("R3 same-mode-dependencies: async endpoint count (")
    assert "depends on sync service BookService" in message
    assert "provided by get_book_service" in message
    assert "chain: GET /count -> count -> get_book_service -> BookService" in message
    assert "fix: give count an async service instead of BookService" in message
    assert "or make count a plain def (on a SyncRouter)" in message


def test_sync_route_over_an_async_layer() -> None:
    router = SyncRouter()
    with pytest.raises(RouteModeError, match="fix: count cannot await AsyncBookService"):

        @router.get("/count")
        def count(service: Annotated[AsyncBookService, Depends()]) -> int:
            return 0


def test_deep_mismatch_below_an_unmarked_dependency() -> None:
    """A sync helper dependency that consumes an async repository is flagged at its depth."""
    router = SyncRouter()
    with pytest.raises(RouteModeError) as caught:

        @router.get("/deep")
        def deep(value: Annotated[int, Depends(helper)]) -> int:
            return value

    assert "chain: GET /deep -> deep -> helper -> get_async_book_repository" in str(caught.value)


def test_async_dependency_feeding_an_async_layer_into_a_sync_route_is_fine() -> None:
    """FastAPI awaits async dependencies even for def endpoints: the consumer is async."""
    router = SyncRouter()

    @router.get("/fine")
    def fine(count: Annotated[int, Depends(count_books)]) -> int:
        return count

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/fine").json() == 4


def test_router_level_dependencies_are_checked() -> None:
    router = SyncRouter(dependencies=[Depends(AsyncBookService)])
    with pytest.raises(RouteModeError, match="AsyncBookService"):

        @router.get("/x")
        def x() -> None: ...

    plain = SyncRouter()
    with pytest.raises(RouteModeError, match="AsyncBookService"):
        plain.add_api_route("/y", lambda: None, dependencies=[Depends(AsyncBookService)])


def test_websocket_routes_are_checked() -> None:
    router = SyncRouter()
    with pytest.raises(RouteModeError, match="websocket endpoints are async"):

        @router.websocket("/ws")
        async def ws(websocket: WebSocket) -> None: ...

    async_router = AsyncRouter()
    with pytest.raises(RouteModeError, match="BookService"):

        @async_router.websocket("/ws")
        async def ws2(
            websocket: WebSocket, service: Annotated[BookService, Depends(get_book_service)]
        ) -> None: ...


def test_including_a_plain_router_into_a_declared_router_checks_its_routes() -> None:
    plain = APIRouter()

    @plain.get("/a")
    async def a() -> None: ...

    router = SyncRouter()
    with pytest.raises(RouteModeError, match="endpoint a"):
        router.include_router(plain, prefix="/plain")
    assert router.routes == []


def test_include_router_dependencies_are_checked_by_check_app() -> None:
    router = SyncRouter()

    @router.get("/ok")
    def ok() -> int:
        return 1

    app = FastAPI()
    app.include_router(router, dependencies=[Depends(AsyncBookService)])
    report = check_app(app)
    assert not report.ok
    (violation,) = report.violations
    assert "sync endpoint ok" in violation.summary
    assert "AsyncBookService" in violation.summary


def test_warn_mode_keeps_the_route() -> None:
    configure("warn")
    router = SyncRouter()
    with pytest.warns(BoundaryWarning, match="R2 callable-mode"):

        @router.get("/warned")
        async def warned() -> None: ...

    assert len(router.routes) == 1


def test_errors_are_boundary_errors_and_type_errors() -> None:
    router = SyncRouter()
    with pytest.raises(BoundaryError):

        @router.get("/x")
        async def x() -> None: ...

    assert issubclass(RouteModeError, TypeError)


class EarlyService(AsyncService):
    def __init__(self, repo: LateRepository) -> None:  # type: ignore[valid-type]
        self.repo = repo


async def get_early_service() -> EarlyService:
    raise NotImplementedError


def test_deferred_references_are_checked_at_route_registration() -> None:
    """``LateRepository`` is bound in the module only after EarlyService was created."""
    router = AsyncRouter()
    with pytest.raises(RouteModeError) as caught:

        @router.get("/early")
        async def early(service: Annotated[EarlyService, Depends(get_early_service)]) -> None: ...

    message = str(caught.value)
    assert "async service EarlyService" in message
    assert "sync repository LateRepository" in message
    assert "parameter 'repo' of EarlyService.__init__" in message


# Bound after EarlyService was created, as a circular import would do: the class comes
# from another module, so its creation does not retry this module's deferred references.
LateRepository = type("LateRepository", (SyncRepository,), {"__module__": "elsewhere"})


def test_same_mode_router_included_without_dependencies_is_not_rechecked() -> None:
    child = SyncRouter()

    @child.get("/c")
    def c(service: Annotated[BookService, Depends(get_book_service)]) -> int:
        return service.count()

    parent = SyncRouter(prefix="/p")
    parent.include_router(child)
    app = FastAPI()
    app.include_router(parent)
    with TestClient(app) as client:
        assert client.get("/p/c").json() == 3
    with pytest.raises(RouteModeError, match="AsyncBookService"):
        parent.include_router(child, prefix="/again", dependencies=[Depends(AsyncBookService)])
