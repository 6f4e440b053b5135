"""Endpoints that reach files, processes and other services: each fake-async one and its twin."""

import asyncio
import sqlite3
import subprocess
import time

import aiosqlite
import anyio
import httpx
import requests
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel

from fastapi_boundary import run_blocking

from . import settings
from .mailer import mailer
from .vendor.geoip import AsyncGeoIPClient, GeoIPClient
from .vendor.legacy import LegacyCache

app = FastAPI(title="Media")
cache = LegacyCache(settings.SERVICE_HOST, int(settings.SERVICE_PORT or 80))


class ContactForm(BaseModel):
    email: str
    message: str


def get_geoip():
    return GeoIPClient(settings.SERVICE_URL)


def get_async_geoip() -> AsyncGeoIPClient:
    return AsyncGeoIPClient(settings.SERVICE_URL)


def count_jobs() -> int:
    connection = sqlite3.connect(settings.STATS_DB)
    try:
        connection.execute("create table if not exists jobs (id integer primary key)")
        return int(connection.execute("select count(*) from jobs").fetchone()[0])
    finally:
        connection.close()


@app.get("/terms")
async def terms():
    with open(settings.TERMS_PATH) as terms_file:
        return {"terms": terms_file.read()}


@app.get("/async/terms")
async def terms_async():
    return {"terms": await anyio.Path(settings.TERMS_PATH).read_text()}


@app.post("/uploads/{name}")
async def upload(name: str, request: Request):
    data = await request.body()
    with open(settings.UPLOAD_DIR / name, "wb") as out:
        out.write(data)
    return {"size": len(data)}


@app.post("/async/uploads/{name}")
async def upload_async(name: str, request: Request):
    data = await request.body()
    async with await anyio.open_file(settings.UPLOAD_DIR / name, "wb") as out:
        await out.write(data)
    return {"size": len(data)}


@app.post("/thumbnails/{name}")
async def make_thumbnail(name: str):
    subprocess.run(["true", name], check=True)
    return {"thumbnail": name}


@app.post("/async/thumbnails/{name}")
async def make_thumbnail_async(name: str):
    await anyio.run_process(["true", name])
    return {"thumbnail": name}


@app.get("/jobs/wait")
async def wait_for_job():
    for _ in range(2):
        time.sleep(settings.POLL_INTERVAL)
    return {"done": True}


@app.get("/async/jobs/wait")
async def wait_for_job_async():
    for _ in range(2):
        await asyncio.sleep(settings.POLL_INTERVAL)
    return {"done": True}


@app.get("/rates")
async def exchange_rates():
    try:
        return {"status": requests.get(f"{settings.SERVICE_URL}/rates", timeout=2).status_code}
    except requests.RequestException:
        return {"status": None}


@app.get("/async/rates")
async def exchange_rates_async():
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return {"status": (await client.get(f"{settings.SERVICE_URL}/rates")).status_code}
    except httpx.HTTPError:
        return {"status": None}


@app.get("/avatar")
async def avatar():
    try:
        with httpx.Client(timeout=2) as client:
            return {"status": client.get(f"{settings.SERVICE_URL}/avatar").status_code}
    except httpx.HTTPError:
        return {"status": None}


@app.get("/sync/avatar")
def avatar_sync():
    try:
        with httpx.Client(timeout=2) as client:
            return {"status": client.get(f"{settings.SERVICE_URL}/avatar").status_code}
    except httpx.HTTPError:
        return {"status": None}


@app.get("/geo/{ip}")
async def locate(ip: str, client=Depends(get_geoip)):
    try:
        return client.city(ip)
    except requests.RequestException:
        return {"ip": ip, "status": None}


@app.get("/async/geo/{ip}")
async def locate_async(ip: str, client: AsyncGeoIPClient = Depends(get_async_geoip)):
    try:
        return await client.city(ip)
    except httpx.HTTPError:
        return {"ip": ip, "status": None}


@app.get("/legacy/{key}")
async def legacy_item(key: str):
    try:
        return {"value": cache.fetch(key).decode(errors="replace")}
    except OSError:
        return {"value": None}


@app.get("/offloaded/legacy/{key}")
async def legacy_item_offloaded(key: str):
    try:
        return {"value": (await run_blocking(cache.fetch, key)).decode(errors="replace")}
    except OSError:
        return {"value": None}


@app.post("/contact")
async def contact(form: ContactForm):
    return {"sent": mailer.send(form.email, form.message)}


@app.post("/sync/contact")
def contact_sync(form: ContactForm):
    return {"sent": mailer.send(form.email, form.message)}


@app.get("/stats")
async def job_stats():
    return {"jobs": count_jobs()}


@app.get("/async/stats")
async def job_stats_async():
    async with aiosqlite.connect(settings.STATS_DB) as db:
        await db.execute("create table if not exists jobs (id integer primary key)")
        async with db.execute("select count(*) from jobs") as cursor:
            row = await cursor.fetchone()
    return {"jobs": row[0] if row else 0}
