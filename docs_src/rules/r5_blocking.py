import subprocess

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(engine)


def get_session():  # no annotations: nothing for the types to see
    with SessionLocal() as session:
        yield session


def record_visit(session, path):
    session.execute(text("select 1"))  # stands in for an insert
    session.commit()


def git_revision() -> str:
    return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"]).decode().strip()


app = FastAPI()


@app.get("/")
async def home(session=Depends(get_session)) -> dict[str, str]:
    record_visit(session, "/")  # the sync session commits on the event loop
    return {"revision": git_revision()}  # and a subprocess runs on it
