"""The shop's Celery app, for CPU work on worker machines: used when ``BOOKSHOP_REDIS_URL`` is set.

    BOOKSHOP_REDIS_URL=redis://localhost:6379/0 celery -A examples.async_bookshop.worker worker
    BOOKSHOP_REDIS_URL=redis://localhost:6379/0 uvicorn examples.async_bookshop.main:app

Redis is the broker and the result backend.  ``queue_backend`` is what ``main.py`` hands to
``install(app, processes=...)``: every ``await run_cpu(...)`` of the shop (password hashes,
reading statistics) then runs on these workers, with no change to a route or a function.
The worker imports this module, which registers the task that runs them.
"""

import os

from celery import Celery

from fastapi_boundary import CeleryBackend

REDIS_URL_ENV = "BOOKSHOP_REDIS_URL"

celery_app = Celery(
    "bookshop",
    broker=os.environ[REDIS_URL_ENV],
    backend=os.environ[REDIS_URL_ENV],
)
celery_app.conf.update(
    task_default_queue="bookshop-cpu",
    worker_prefetch_multiplier=1,
    # a request fails fast when Redis is down (Celery's default retries for 20 s)
    result_backend_transport_options={"retry_policy": {"max_retries": 2, "interval_max": 0.2}},
)

#: ``run_cpu``'s calls on the workers: bytes (salts, hashes) need a serializer that carries
#: them; kombu's JSON does.  30 s is far more than a hash takes: past it, the call is revoked.
queue_backend = CeleryBackend(celery_app, timeout=30)
