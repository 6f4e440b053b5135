"""Fake-async shapes the body analysis (R5) finds, each next to its correct twin.

One module per family, as issue 11 measured them on public apps: an unannotated
``Depends`` (``unannotated``), a blocking call one helper deeper (``helpers``),
``request.state`` set by middleware, and middleware, lifespan, handlers that
block (``app_wide``), engines and inspectors (``engines``), class-based views
and providers of plain classes (``controllers``), background tasks and CPU work
(``tasks``).  Every module's ``app`` serves real SQLAlchemy sessions on
in-memory SQLite (``db``); each wrong function has a twin that awaits an async
driver or offloads the blocking part, and is reported nothing.
"""
