"""What the app runs on the event loop: endpoints, dependencies, middleware, lifespan, handlers.

`analyse_loop` finds the app's own functions that FastAPI and Starlette run on the loop,
each with its role and the routes that run it; library code is left out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import fastapi.routing
import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fastapi_boundary import check_app, install
from fastapi_boundary._audit.bodies import LoopFunction
from fastapi_boundary._audit.loop_functions import analyse_loop
from fastapi_boundary._audit.report import AppReport
from fastapi_boundary._common.modes import Mode
from tests.helpers import NEEDS_METHOD_ANNOTATIONS, ROOT


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def on_the_loop(app: Any) -> dict[str, LoopFunction]:
    """``name -> LoopFunction`` for every function of the app's own found on the loop."""
    report = check_app(app)
    analyzer = analyse_loop(app, report)
    return {loop.name: loop for loop in analyzer.functions.values()}


def route_labels(loop: LoopFunction) -> list[str]:
    return sorted(route.label for route in loop.routes.values())


# --- routes -------------------------------------------------------------------------------------


async def current_user(request: Request) -> str:
    return request.headers.get("user", "")


def settings() -> dict[str, str]:
    return {}


async def read(user: str = Depends(current_user), conf: dict[str, str] = Depends(settings)) -> str:
    return user


def write(user: str = Depends(current_user)) -> str:
    return user


class Greeting(HTTPEndpoint):
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    def post(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("sync: the threadpool")


def test_async_endpoints_and_dependencies_with_their_routes() -> None:
    app = FastAPI()
    app.add_api_route("/read", read)
    app.add_api_route("/write", write, methods=["POST"])
    found = on_the_loop(app)
    assert set(found) == {"read", "current_user"}  # def write and def settings: threadpool
    assert (found["read"].role, found["current_user"].role) == (
        "async endpoint",
        "async dependency",
    )
    assert route_labels(found["current_user"]) == ["GET /read", "POST /write"]
    assert route_labels(found["read"]) == ["GET /read"]
    assert not found["read"].app_level


def test_starlette_endpoints_and_routers() -> None:
    app = Starlette(routes=[Route("/greet", Greeting)])
    found = on_the_loop(app)
    assert set(found) == {"Greeting.get"}
    router = APIRouter()
    router.add_api_route("/read", read)
    assert set(on_the_loop(router)) == {"read", "current_user"}


# --- middleware ------------------------------------------------------------------------------


class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        return await call_next(request)


class Raw:
    def __init__(self, app: ASGIApp, label: str = "raw") -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def test_middleware_of_every_kind_runs_for_every_route() -> None:
    app = FastAPI()
    app.add_api_route("/write", write, methods=["POST"])
    app.add_middleware(Timing)
    app.add_middleware(Raw, label="x")
    app.add_middleware(CORSMiddleware, allow_origins=["*"])  # a library's: not the app's code

    @app.middleware("http")
    async def tag(request: Request, call_next: Any) -> Any:
        return await call_next(request)

    found = on_the_loop(app)
    middleware = {name for name, loop in found.items() if loop.role == "middleware"}
    assert middleware == {"Timing.dispatch", "Raw.__call__", "tag"}
    assert all(found[name].app_wide and found[name].app_level for name in middleware)
    report = check_app(app)
    assert report.coverage is not None and report.coverage.complete  # call_next, self.app: known


# --- lifespan, start-up, shutdown -----------------------------------------------------------


@asynccontextmanager
async def decorated_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


async def generator_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def sync_lifespan(app: FastAPI) -> Iterator[None]:
    yield


async def started() -> None:
    return None


def stopped() -> None:
    return None


# Starlette < 1.0 warns about generator lifespans, and about on_startup/on_shutdown
@pytest.mark.filterwarnings("ignore:.*lifespans are deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("lifespan", "mode"),
    [
        (decorated_lifespan, Mode.ASYNC),
        (generator_lifespan, Mode.ASYNC),
        (sync_lifespan, Mode.SYNC),  # FastAPI enters it on the loop
    ],
)
def test_the_lifespan_through_every_wrapper(lifespan: Any, mode: Mode) -> None:
    app = FastAPI(lifespan=lifespan)
    app.add_api_route("/write", write, methods=["POST"])
    install(app, check="off")  # wraps the lifespan once more
    found = on_the_loop(app)
    name = getattr(lifespan, "__wrapped__", lifespan).__name__
    assert (found[name].role, found[name].mode) == ("lifespan", mode)
    assert found[name].app_level and not found[name].app_wide and not found[name].routes


@pytest.mark.filterwarnings("ignore:The on_startup and on_shutdown:DeprecationWarning")
def test_included_routers_lifespans_and_event_handlers() -> None:
    router = APIRouter(lifespan=asynccontextmanager(generator_lifespan))
    router.add_api_route("/read", read)
    app = FastAPI(lifespan=decorated_lifespan)
    app.include_router(router)
    found = on_the_loop(app)
    # an included router's lifespan runs only where FastAPI merges it into the app's
    merged = hasattr(fastapi.routing, "_merge_lifespan_context")
    assert {name for name, loop in found.items() if loop.role == "lifespan"} == {
        "decorated_lifespan",
        *(["generator_lifespan"] if merged else []),
    }
    app = FastAPI(on_startup=[started], on_shutdown=[stopped])  # not with a lifespan
    app.add_api_route("/read", read)
    found = on_the_loop(app)
    assert (found["started"].role, found["started"].mode) == ("startup handler", Mode.ASYNC)
    assert (found["stopped"].role, found["stopped"].mode) == ("shutdown handler", Mode.SYNC)


# --- handlers and tasks -----------------------------------------------------------------------


async def on_value_error(request: Request, error: Exception) -> PlainTextResponse:
    return PlainTextResponse(str(error), status_code=400)


def on_key_error(request: Request, error: Exception) -> PlainTextResponse:
    return PlainTextResponse(str(error), status_code=404)  # sync: Starlette's threadpool


async def send_welcome(email: str) -> None:
    time.sleep(0.01)


def send_receipt(email: str) -> None:
    time.sleep(0.01)


async def register(email: str, tasks: BackgroundTasks) -> None:
    tasks.add_task(send_welcome, email)
    tasks.add_task(send_receipt, email)


async def remember(request: Request) -> str:
    return await helper_coroutine(request)


async def helper_coroutine(request: Request) -> str:
    return request.url.path


def test_exception_handlers_background_tasks_and_awaited_functions() -> None:
    app = FastAPI()
    app.add_exception_handler(ValueError, on_value_error)
    app.add_exception_handler(KeyError, on_key_error)
    app.add_api_route("/register", register, methods=["POST"])
    app.add_api_route("/remember", remember)
    found = on_the_loop(app)
    assert found["on_value_error"].role == "exception handler"
    assert "on_key_error" not in found
    assert found["send_welcome"].role == "background task"
    assert route_labels(found["send_welcome"]) == ["POST /register"]
    assert "send_receipt" not in found  # a def task runs in the threadpool
    assert found["helper_coroutine"].role == "async function"
    assert route_labels(found["helper_coroutine"]) == ["GET /remember"]
    report = check_app(app)
    (violation,) = report.violations
    assert (violation.subject.role, violation.subject.name) == ("background task", "send_welcome")


# --- class-based views ------------------------------------------------------------------------


class View:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def show(self) -> str:
        return self.prefix.upper()

    async def __call__(self, request: Request) -> str:
        return self.prefix


@NEEDS_METHOD_ANNOTATIONS
def test_bound_methods_and_callable_instances_keep_their_self() -> None:
    view = View("p")
    app = FastAPI()
    app.add_api_route("/show", view.show)

    async def with_instance(value: str = Depends(View("q"))) -> str:
        return value

    app.add_api_route("/instance", with_instance)
    found = on_the_loop(app)
    assert {"View.show", "View.__call__", "with_instance"} <= set(found)
    report = check_app(app)
    assert report.coverage is not None and report.coverage.complete  # self.prefix: a live str


def test_library_code_is_neither_analysed_nor_counted() -> None:
    app = FastAPI()  # FastAPI's own documentation routes, Starlette's middleware stack
    app.add_middleware(CORSMiddleware, allow_origins=["*"])
    app.add_api_route("/settings", settings)
    install(app, check="off")
    report: AppReport = check_app(app)
    assert report.coverage is not None
    assert (report.coverage.functions, report.coverage.complete) == (0, True)
