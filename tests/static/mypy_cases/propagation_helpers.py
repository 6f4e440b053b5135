"""One level down, in another module: plain helpers and a plain class of the app's own."""

import subprocess

from propagation_deep import pause, write_audit
from sqlalchemy.orm import Session


def save_item(session: Session, name: str) -> None:
    """Blocks two levels down: save_item -> write_audit -> Session.commit."""
    write_audit(session, name)


def render_report(name: str) -> bytes:
    return subprocess.check_output(["echo", name])


def format_name(name: str) -> str:
    return name.title()  # blocks nothing


class ItemStore:
    """Not a layer: a plain class whose sync methods block."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str) -> None:
        save_item(self.session, name)

    def label(self, name: str) -> str:
        return format_name(name)

    async def add_async(self, name: str) -> None:
        self.session.add(name)
        pause()  # E: boundary-blocking-call
