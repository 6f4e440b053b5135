"""Incident endpoints: the session comes from ``request.state`` or a class-based view."""

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .database import Incident, SessionLocal, get_async_session, get_db, get_session
from .notifications import send_email, send_incident_notification
from .permissions import ApiKeyPermission, PermissionsDependency, SyncPermissionsDependency

router = APIRouter()
async_router = APIRouter()


@router.get("/incidents")
async def list_incidents(db_session=Depends(get_db)):
    return [incident.title for incident in db_session.scalars(select(Incident)).all()]


@router.get("/incidents/{incident_id}")
async def get_incident(incident_id: int, request: Request):
    incident = request.state.db.get(Incident, incident_id)
    return {"id": incident_id, "title": incident.title if incident else None}


@async_router.get("/incidents/{incident_id}")
async def get_incident_async(incident_id: int, request: Request):
    incident = await request.state.db.get(Incident, incident_id)
    return {"id": incident_id, "title": incident.title if incident else None}


@router.post("/incidents")
async def create_incident(title: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(send_incident_notification, 1)
    return {"title": title}


@router.post("/incidents/sync-notify")
async def create_incident_sync_task(title: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(send_email, "oncall@example.com", f"Incident {title} created")
    return {"title": title}


@router.get(
    "/admin/incidents",
    dependencies=[Depends(PermissionsDependency([ApiKeyPermission]))],
)
async def admin_incidents():
    return {"ok": True}


@router.get(
    "/admin/sync-permissions/incidents",
    dependencies=[Depends(SyncPermissionsDependency([ApiKeyPermission]))],
)
async def admin_incidents_sync_permissions():
    return {"ok": True}


class IncidentView:
    def __init__(self, db: Session = Depends(get_session)) -> None:
        self.db = db

    async def list(self: "IncidentView" = Depends()):
        return [incident.title for incident in self.db.scalars(select(Incident)).all()]


class AsyncIncidentView:
    def __init__(self, db: AsyncSession = Depends(get_async_session)) -> None:
        self.db = db

    async def list(self: "AsyncIncidentView" = Depends()):
        return [incident.title for incident in (await self.db.scalars(select(Incident))).all()]


class IncidentStats:
    def __init__(self, db: Session) -> None:
        self.db = db

    async def total(self):
        return {"total": self.db.scalar(select(func.count(Incident.id)))}


stats = IncidentStats(SessionLocal())

router.add_api_route("/views/incidents", IncidentView.list)
router.add_api_route("/stats", stats.total)
async_router.add_api_route("/views/incidents", AsyncIncidentView.list)
