"""Background tasks, websockets and CPU work: what runs on the loop after (or beside) a response."""

import smtplib

import bcrypt
from fastapi import BackgroundTasks, FastAPI, WebSocket

from fastapi_boundary import run_blocking


def send_mail(to: str) -> None:
    with smtplib.SMTP("localhost") as smtp:
        smtp.sendmail("shop@example.com", [to], "welcome")


async def notify(to: str) -> None:
    send_mail(to)  # an async task: it runs on the loop


async def register(email: str, tasks: BackgroundTasks) -> None:
    tasks.add_task(notify, email)


async def hash_password(password: str) -> bytes:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())


async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(send_mail.__name__)
    send_mail("live@example.com")


# --- the twins ----------------------------------------------------------------------------


async def register_sync_task(email: str, tasks: BackgroundTasks) -> None:
    tasks.add_task(send_mail, email)  # a def task: Starlette runs it in its threadpool


async def notify_offloaded(to: str) -> None:
    await run_blocking(send_mail, to)


async def register_offloaded(email: str, tasks: BackgroundTasks) -> None:
    tasks.add_task(notify_offloaded, email)


async def hash_offloaded(password: str) -> bytes:
    return await run_blocking(bcrypt.hashpw, password.encode(), bcrypt.gensalt())


app = FastAPI()
for endpoint in (register, hash_password, register_sync_task, register_offloaded, hash_offloaded):
    app.add_api_route(f"/{endpoint.__name__}", endpoint, methods=["POST"])
app.add_api_websocket_route("/live", live)
