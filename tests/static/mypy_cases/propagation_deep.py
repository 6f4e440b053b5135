"""Two levels down: the blocking call the other propagation cases reach across modules."""

import time

from sqlalchemy.orm import Session


def write_audit(session: Session, entry: str) -> None:
    session.info["audit"] = entry
    session.commit()


def pause() -> None:
    time.sleep(0.1)


async def audit_now(session: Session) -> None:
    write_audit(session, "now")  # E: boundary-blocking-call
