"""The labels: every function of the corpus that a detector should judge, blocking or not.

``function`` is ``module:qualname`` under ``corpus``; ``app`` the app that runs it;
``request`` the request that makes it run (``lifespan``: the app's start-up), so the guard
can be judged on it too. A blocking function is one that blocks the event loop when that
request is served; its twin does the same work correctly.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    function: str
    shape: str
    blocking: bool
    app: str
    request: str
    body: str | None = None


C, D, W, M = "conduit.api:app", "dispatch.main:app", "dispatch.webhooks:app", "media.api:app"
DA, WA = "dispatch.main:async_app", "dispatch.webhooks:async_app"
LOGIN = '{"username": "alice", "password": "wonderland"}'

CASES: tuple[Case, ...] = (
    # sync Session through an unannotated Depends; twin: an AsyncSession, awaited
    Case("conduit.api:list_articles", "unannotated Depends", True, C, "GET /api/articles"),
    Case(
        "conduit.api:list_articles_async",
        "unannotated Depends",
        False,
        C,
        "GET /api/async/articles",
    ),
    Case("dispatch.views:list_incidents", "unannotated Depends", True, D, "GET /api/v1/incidents"),
    # a provider without a return annotation; twin: the same provider, the call offloaded
    Case(
        "conduit.api:articles_count",
        "provider without annotation",
        True,
        C,
        "GET /api/articles/count",
    ),
    Case(
        "conduit.api:articles_count_offloaded",
        "provider without annotation",
        False,
        C,
        "GET /api/offloaded/articles/count",
    ),
    Case("media.api:locate", "provider without annotation", True, M, "GET /geo/10.0.0.1"),
    Case(
        "media.api:locate_async", "provider without annotation", False, M, "GET /async/geo/10.0.0.1"
    ),
    # the blocking call one call deeper, in the app's own helper
    Case(
        "conduit.api:create_article",
        "helper one call deep",
        True,
        C,
        "POST /api/articles",
        '{"title": "One"}',
    ),
    Case(
        "conduit.api:create_article_offloaded",
        "helper one call deep",
        False,
        C,
        "POST /api/offloaded/articles",
        '{"title": "Two"}',
    ),
    Case("conduit.api:login", "helper one call deep", True, C, "POST /api/users/login", LOGIN),
    Case(
        "conduit.api:login_offloaded",
        "helper one call deep",
        False,
        C,
        "POST /api/offloaded/users/login",
        LOGIN,
    ),
    Case("media.api:job_stats", "helper one call deep", True, M, "GET /stats"),
    Case("media.api:job_stats_async", "helper one call deep", False, M, "GET /async/stats"),
    # two calls deeper (service -> crud); twin: the async service, awaited
    Case("conduit.api:follow", "helpers two calls deep", True, C, "POST /api/profiles/bob/follow"),
    Case(
        "conduit.api:follow_async",
        "helpers two calls deep",
        False,
        C,
        "POST /api/async/profiles/bob/follow",
    ),
    # an async dependency run on every authenticated request; twin: a def dependency
    Case("conduit.deps:get_current_user", "async dependency", True, C, "GET /api/user"),
    Case(
        "conduit.deps:get_current_user_sync", "async dependency", False, C, "GET /api/sync-dep/user"
    ),
    Case(
        "conduit.api:add_article_async",
        "AsyncSession.add",
        False,
        C,
        "POST /api/async/articles",
        '{"title": "Three"}',
    ),
    # class-based views: the session is held by self
    Case(
        "dispatch.views:IncidentView.list",
        "class-based view",
        True,
        D,
        "GET /api/v1/views/incidents",
    ),
    Case(
        "dispatch.views:AsyncIncidentView.list",
        "class-based view",
        False,
        DA,
        "GET /api/v1/views/incidents",
    ),
    Case("dispatch.views:IncidentStats.total", "class-based view", True, D, "GET /api/v1/stats"),
    # a callable class as a dependency (permission classes)
    Case(
        "dispatch.permissions:PermissionsDependency.__call__",
        "callable-class dependency",
        True,
        D,
        "GET /api/v1/admin/incidents",
    ),
    Case(
        "dispatch.permissions:SyncPermissionsDependency.__call__",
        "callable-class dependency",
        False,
        D,
        "GET /api/v1/admin/sync-permissions/incidents",
    ),
    # the session on request.state, set by the app's middleware
    Case("dispatch.views:get_incident", "request.state", True, D, "GET /api/v1/incidents/1"),
    Case(
        "dispatch.views:get_incident_async", "request.state", False, DA, "GET /api/v1/incidents/1"
    ),
    Case(
        "dispatch.main:async_db_session_middleware",
        "request.state",
        False,
        DA,
        "GET /api/v1/incidents/1",
    ),
    # middleware that opens a sync session per request
    Case("dispatch.webhooks:APIKeyMiddleware.dispatch", "middleware", True, W, "GET /hooks/ping"),
    Case(
        "dispatch.webhooks:AsyncAPIKeyMiddleware.dispatch",
        "middleware",
        False,
        WA,
        "GET /hooks/ping",
    ),
    # background tasks: an async wrapper around sync work runs on the loop, a def in a thread
    Case(
        "dispatch.notifications:send_incident_notification",
        "background task",
        True,
        D,
        "POST /api/v1/incidents?title=db",
    ),
    Case(
        "dispatch.views:create_incident_sync_task",
        "background task",
        False,
        D,
        "POST /api/v1/incidents/sync-notify?title=db",
    ),
    # lifespan: tables created with the sync engine on the loop
    Case("dispatch.main:lifespan", "lifespan", True, D, "lifespan"),
    Case("dispatch.main:async_lifespan", "lifespan", False, DA, "lifespan"),
    Case("conduit.api:lifespan", "lifespan", False, C, "lifespan"),
    # third-party-style client classes around a sync session, socket or SMTP connection
    Case("media.api:legacy_item", "wrapper class (socket)", True, M, "GET /legacy/a"),
    Case(
        "media.api:legacy_item_offloaded",
        "wrapper class (socket)",
        False,
        M,
        "GET /offloaded/legacy/a",
    ),
    Case(
        "media.api:contact",
        "wrapper class (smtplib)",
        True,
        M,
        "POST /contact",
        '{"email": "a@example.com", "message": "hi"}',
    ),
    Case(
        "media.api:contact_sync",
        "wrapper class (smtplib)",
        False,
        M,
        "POST /sync/contact",
        '{"email": "a@example.com", "message": "hi"}',
    ),
    # direct blocking calls in the endpoint
    Case("media.api:terms", "open().read()", True, M, "GET /terms"),
    Case("media.api:terms_async", "open().read()", False, M, "GET /async/terms"),
    Case("media.api:upload", "open().write()", True, M, "POST /uploads/a.txt", '"data"'),
    Case(
        "media.api:upload_async", "open().write()", False, M, "POST /async/uploads/b.txt", '"data"'
    ),
    Case("media.api:make_thumbnail", "subprocess.run", True, M, "POST /thumbnails/a.png"),
    Case(
        "media.api:make_thumbnail_async", "subprocess.run", False, M, "POST /async/thumbnails/a.png"
    ),
    Case("media.api:wait_for_job", "time.sleep", True, M, "GET /jobs/wait"),
    Case("media.api:wait_for_job_async", "time.sleep", False, M, "GET /async/jobs/wait"),
    Case("media.api:exchange_rates", "requests.get", True, M, "GET /rates"),
    Case("media.api:exchange_rates_async", "requests.get", False, M, "GET /async/rates"),
    Case("media.api:avatar", "httpx.Client", True, M, "GET /avatar"),
    Case("media.api:avatar_sync", "httpx.Client", False, M, "GET /sync/avatar"),
)


def resolve(reference: str) -> Any:
    """The live object ``module:qualname`` names (``conduit.api:app``), importing its module."""
    module, _, qualname = reference.partition(":")
    found: Any = importlib.import_module(f"corpus.{module}")
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def source_file(case: Case) -> Path:
    return HERE.joinpath(*case.function.partition(":")[0].split(".")).with_suffix(".py")


def span(case: Case) -> tuple[Path, int, int]:
    """The file and the first and last line of the case's function (decorators included)."""
    path = source_file(case)
    wanted = case.function.partition(":")[2].split(".")
    nodes: list[ast.stmt] = ast.parse(path.read_text()).body
    found: ast.stmt | None = None
    for name in wanted:
        found = next(
            node
            for node in nodes
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.name == name
        )
        nodes = found.body
    assert isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef))
    first = min([found.lineno, *(d.lineno for d in found.decorator_list)])
    return path, first, found.end_lineno or found.lineno
