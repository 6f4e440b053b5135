"""Body analysis: what the functions an app runs on the event loop call, and whether it blocks.

Types leave most of what matters as ``Any``: an unannotated ``Depends``
parameter, ``request.state.db``, a module-level engine, a helper one call
deeper.  This package reads the code itself.  Each function's source is parsed
once (one parse per file, the node kept per code object) and walked in source
order; every name is resolved through what the running app actually holds:

- the function's module globals and closure cells (live objects: a module-level
  ``engine = create_engine(...)`` is an `Obj` whose class is checked, never
  re-created);
- its parameters: their annotations, else a ``Depends(provider)`` default's
  provider, by its return annotation or what its body returns or yields
  (``with SessionLocal() as s: yield s``, ``SessionLocal`` a live
  ``sessionmaker`` bound to a sync engine, is a sync ``Session``);
- ``self``: the live instance of a bound method, or the declared class, whose
  attributes come from its ``__init__`` (``self.session = session``, with the
  parameter's type) and its annotations;
- ``request.state.X``: what the app's middleware assigns to it, or its lifespan
  yields;
- locals, in source order, from what the right-hand sides evaluate to.

A call is **blocking** when it is in the blocking catalogue (by the
receiver's MRO and the method name, or by the function's qualified name), is
marked ``@blocking``/``@cpu_bound``, is a public sync method of a sync layer, or
reaches one of those through the app's own sync functions and methods.  Those
are followed **up to `MAX_DEPTH` calls deep** below the function on the loop,
each analysed once per combination of argument types (memoised; a recursive
call is not followed again).  Library code is never followed: the catalogue
speaks for it.  A call to an ``async def`` is not blocking: an ``async def``
of the app's own is a function on the loop too, analysed in turn.  Nothing
inside a lambda or a nested ``def`` runs until it is called, so work handed to
an offload (``run_blocking(helper, ...)``, ``anyio.to_thread.run_sync(lambda:
...)``) is never on the loop; an async function handed to one
(``background_tasks.add_task(notify)``) is.

What could not be resolved is counted, with why (`Analyzer.unresolved`), so a
report never calls clean what was not looked at.  Nothing here imports a
library the app has not imported, and nothing evaluates the app's code: the
only objects touched are those that exist already, read with
``inspect.getattr_static`` (no property or ``__getattr__`` runs).

The package, one concept a module: ``sources`` (what is the app's own code, and
its parsed functions), ``values`` (the abstract values and the names the
catalogue knows a callable by), ``summaries`` (what a call finds), ``resolve``
(annotations and live objects), ``analyzer`` (the analysis), and the walk of
one body: ``base``, ``statements``, ``expressions``, ``calls`` and ``walk``.
"""

from __future__ import annotations

from .analyzer import Analyzer
from .sources import is_app_function, is_app_object
from .summaries import MAX_DEPTH, Hit, LoopFunction, iter_hits
from .values import FRAMEWORK, Inst, Obj, Value

__all__ = [
    "FRAMEWORK",
    "MAX_DEPTH",
    "Analyzer",
    "Hit",
    "Inst",
    "LoopFunction",
    "Obj",
    "Value",
    "is_app_function",
    "is_app_object",
    "iter_hits",
]
