"""What both bookshops share: the tables, the HTTP schemas, the domain errors, and the work
that is not database I/O.

The tables, schemas and errors do no I/O, so they have no mode.  Two things
do work of their own, and each shop crosses to them in its own way:
``passwords`` hashes (CPU work, ``@cpu_bound``: the async shop awaits
``run_cpu``) and ``receipts`` writes files (blocking I/O, a ``SyncService``:
the async shop awaits it through ``to_async``).
"""
