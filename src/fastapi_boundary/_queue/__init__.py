"""Worker queues: CPU-bound and blocking work on Celery workers, through the one typed boundary.

``@queued(celery_app)`` / ``await run_queued(f, ...)`` / ``await enqueue(f, ...)``
send work that must always go to the queue; `CeleryBackend` lets ``run_cpu``
send ``@cpu_bound`` work there instead of the local process pool, with no
change at the call site.  Celery is imported only here, and only when one of
these names is first used: ``import fastapi_boundary`` never imports it.
"""
