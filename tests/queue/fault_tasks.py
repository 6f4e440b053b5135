"""A Celery app of its own for the broker fault test, whose Redis the test stops and starts."""

from __future__ import annotations

import os

from celery import Celery

from fastapi_boundary import CeleryBackend, queued

URL_VARIABLE = "FASTAPI_BOUNDARY_QUEUE_URL"

app = Celery("tests.queue.fault_tasks")
app.conf.update(
    broker_url=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    result_backend=os.environ.get(URL_VARIABLE, "redis://127.0.0.1:1/0"),
    task_default_queue="fastapi-boundary-faults",
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    # fail fast when Redis is down: Celery's result backend retries 20 times, a second apart
    result_backend_transport_options={"retry_policy": {"max_retries": 2, "interval_max": 0.2}},
)

backend = CeleryBackend(app)  # its shutdown() closes the app's connections


@queued(app, timeout=60)
def worker_pid() -> int:
    return os.getpid()
