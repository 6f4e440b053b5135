"""The fix texts and the message parts every wing shares: one voice for one mistake.

A mistake reads the same wherever it is caught: at import time, in
``check_app`` and the CLI, in the offloads and the run-time guard, and in the
mypy plugin.  Pure string functions, with modes as ``"sync"``/``"async"``:
nothing here imports FastAPI, anyio or pydantic (the mypy plugin uses them).

Conventions: a name is written as given (the run time passes
``display_name``, the plugin a source-like text); ``site`` is the
``file:line`` of a definition, or ``""`` where the report gives the place
itself (a mypy error does); no text ends with a period (a `Violation` prints
``fix: ...``, the guard and the raising sites add the period).
"""

from __future__ import annotations

__all__ = [
    "a",
    "advise_cpu_offload",
    "advise_keep",
    "advise_make_def",
    "advise_migrate",
    "advise_plan_boundary",
    "advise_plan_drags",
    "async_from_sync",
    "at",
    "blocking_call_fix",
    "cannot_mark",
    "endpoint_dependency_fix",
    "endpoint_mode_fix",
    "held_dependency_fix",
    "layer_dependency_fix",
    "layer_function_fix",
    "layer_method_fix",
    "lazy_load_fix",
    "loop_helper_fix",
    "marker_on_async",
    "offload_dependency_given_async",
    "offload_given_async",
    "offload_given_call_result",
    "offload_given_generator",
    "offload_limiter_order",
    "offload_marked",
    "offload_timed_out",
    "private_loop_fix",
    "process_target_async",
    "process_target_generator",
    "process_target_nested",
    "proxy_given_async_method",
    "queue_argument_not_encodable",
    "queue_target_async",
    "queue_task_refused",
    "queue_unavailable",
    "sync_layer_call_fix",
    "to_async_given_async_layer",
]


def a(noun: str) -> str:
    """``a sync service`` / ``an async service``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def at(site: object) -> str:
    """`` (file:line)`` after a name; nothing when the site is empty."""
    text = str(site) if site is not None else ""
    return f" ({text})" if text else ""


def _await(name: str, kind: str) -> str:
    """How async code uses an async callable: ``await f(...)``, or ``async for`` a generator."""
    if "generator" in kind:
        return f"`async for ... in {name}(...)`"
    return f"`await {name}(...)`"


# --- R2: a callable of the other mode -------------------------------------------------------


def layer_method_fix(name: str, mode: str, kind: str) -> str:
    """R2: public method ``name`` of a ``mode`` layer (a ``kind``) is of the other mode."""
    private = not name.startswith("__")
    if mode == "sync":
        return (
            f"make {name} a plain def (a sync {kind} runs in the threadpool and cannot await), "
            f"or move it to an async layer"
            + (f"; a private helper may be named _{name}" if private else "")
        )
    return (
        f"make {name} an async def over an async driver; if it is a pure helper that does no "
        f"I/O, decorate it with @pure" + (f" or name it _{name}" if private else "")
    )


def layer_function_fix(name: str, declared: str, actual: str) -> str:
    """R2 for function layers: ``@layer('async')`` on a plain ``def``, and the reverse."""
    wanted = "a plain def" if declared == "sync" else "an async def"
    return f"make {name} {wanted}, or declare it @layer('{actual}')"


def endpoint_mode_fix(name: str, router_mode: str, *, websocket: bool = False) -> str:
    """R2 for routers: endpoint ``name`` is not of its ``SyncRouter``/``AsyncRouter``'s mode."""
    if websocket:
        if router_mode == "sync":
            return f"websocket endpoints are async: add {name} to an AsyncRouter"
        return f"websocket endpoints are async: make {name} an async def"
    if router_mode == "sync":
        return (
            f"make {name} a plain def (FastAPI runs it in the threadpool), or add it to an "
            f"AsyncRouter if it only awaits async drivers"
        )
    return (
        f"make {name} an async def that awaits async layers, or add it to a SyncRouter "
        f"if it uses blocking libraries"
    )


# --- R3: a dependency of the other mode -----------------------------------------------------


def _driver(other: str, advice: str | None) -> str:
    return f"{other} is a {advice or 'driver of the other mode'}"


def layer_dependency_fix(
    subject: str,
    mode: str,
    kind: str,
    other: str,
    other_mode: str,
    other_kind: str,
    advice: str | None = None,
) -> str:
    """R3: layer ``subject`` (``mode`` ``kind``) depends on ``other``, of the other mode.

    ``other`` is a layer or a driver; ``advice`` is a known driver's: what it
    is and its counterpart.
    """
    if other_kind == "driver":
        return (
            f"{_driver(other, advice)}: use that in {subject}, or make {subject} "
            f"{other_mode} so the whole chain has one mode"
        )
    if mode == "async":
        return (
            f"give {subject} an async {other_kind} (over an async driver such as "
            f"SQLAlchemy's AsyncSession), or make {subject} a sync {kind} so the "
            f"whole chain stays sync; async code may reach sync code only through one explicit "
            f"offload at the boundary (to_async(service), or await run_blocking(...))"
        )
    return (
        f"a sync {kind} cannot await: give {subject} a sync "
        f"{other_kind} (over a blocking driver), or make {subject} async; never mix "
        f"an async {other_kind} into a sync chain"
    )


def endpoint_dependency_fix(
    name: str, mode: str, other: str, other_kind: str, advice: str | None = None
) -> str:
    """R3 for routes: endpoint (or dependency) ``name`` receives ``other``, of the other mode."""
    if other_kind == "driver":
        fix = f"{_driver(other, advice)}: use that in {name}"
    elif mode == "async":
        fix = f"give {name} an async {other_kind} instead of {other}"
    else:
        fix = f"{name} cannot await {other}: give it a sync {other_kind}"
    if mode == "async":
        return fix + (
            f", or make {name} a plain def (on a SyncRouter) so the whole request stays sync; "
            f"an async route may reach sync code only through one explicit offload "
            f"(a provider returning to_async(service), or await run_blocking(...))"
        )
    return fix + f", or make {name} an async def (on an AsyncRouter)"


def held_dependency_fix(
    name: str, mode: str, holder: str, other: str, other_kind: str, advice: str | None = None
) -> str:
    """R3: ``name`` receives ``holder``, a plain object whose constructor takes ``other``."""
    if other_kind == "driver":
        fix = f"{_driver(other, advice)}: use that in {holder}"
    else:
        fix = f"give {holder} {a(mode + ' ' + other_kind)} instead of {other}"
    if mode == "async":
        return fix + (
            f", or make {name} a plain def so the whole request stays sync; async code may "
            f"reach sync code only through one explicit offload (await run_blocking(...))"
        )
    return fix + f", or make {name} an async def"


# --- blocking calls in async code -----------------------------------------------------------


def offload_marked(marker: str, callee: str) -> str:
    """How async code runs a ``@blocking`` (a thread) or ``@cpu_bound`` (a process) callable."""
    if marker == "@cpu_bound":
        return f"run it in a worker process: `await run_cpu({callee}, ...)`"
    return f"offload it: `await run_blocking({callee}, ...)`"


def sync_layer_call_fix(receiver: str, method: str) -> str:
    """How async code calls method ``method`` of a sync layer ``receiver``: one explicit offload."""
    return (
        f"offload it: `await run_blocking({receiver}.{method}, ...)` or use `to_async({receiver})`"
    )


def slow_step_fix() -> str:
    """A synchronous step of an async layer or endpoint held the loop too long (step timing)."""
    return (
        "await an async driver instead of a blocking one, or offload the blocking part: "
        "await run_blocking(func, ...) for I/O, await run_cpu(func, ...) for CPU work"
    )


def blocking_call_fix(fix: str, caller: str | None = None) -> str:
    """``fix`` for a blocking call, or the way out for the whole caller: a ``def``.

    FastAPI runs a ``def`` endpoint in its threadpool.  ``caller`` names the
    function when it is known (the plugin); the guard says "the endpoint".
    """
    if caller is None:
        return f"{fix}, or make the endpoint `def`"
    return f"{fix}, or make {caller} a plain def"


def private_loop_fix() -> str:
    """``asyncio.run``/``run_until_complete`` in a worker thread: a second event loop."""
    return (
        "call the coroutine on the app's own loop with `anyio.from_thread.run(async_fn, ...)` "
        "from the worker thread, or make the caller `async def` and await it"
    )


def lazy_load_fix(owner: str, attribute: str) -> str:
    """A relationship loaded on attribute access under an ``AsyncSession`` (``MissingGreenlet``)."""
    return (
        f"load it with the query (`.options(selectinload({owner}.{attribute}))`), or "
        f"`await session.refresh(obj, [{attribute!r}])` before reading it, or read it as "
        f"`await obj.awaitable_attrs.{attribute}` (SQLAlchemy's `AsyncAttrs`)"
    )


def loop_helper_fix(helper: str, callee: str, category: str, caller: str | None = None) -> str:
    """R5: the app's own sync ``helper`` reaches blocking ``callee`` (a ``category`` call).

    The helper is the unit to move off the loop: a thread for I/O, a worker
    process for CPU work; ``caller`` (an endpoint or dependency) may instead
    become a plain def, which FastAPI runs in its threadpool.
    """
    marker = "@cpu_bound" if category == "cpu" else "@blocking"
    fix = f"{helper} calls {callee}, which blocks: {offload_marked(marker, helper)}"
    return fix if caller is None else blocking_call_fix(fix, caller)


def async_from_sync(caller: str, where: str, callee: str, role: str, kind: str) -> str:
    """Sync code (``caller``, in ``where``) calls async ``callee`` of a ``role``: never awaited."""
    return (
        f"{caller} ({where}) calls {callee} of {a(role)} without awaiting it: sync code cannot "
        f"await, so the coroutine never runs. Fix: depend on a sync {kind} there, or call it "
        f"from async code (an async layer, an async def endpoint) and await it"
    )


# --- markers and offloads refusing what they cannot run -------------------------------------


def marker_on_async(name: str, kind: str = "an async def") -> str:
    """``@blocking`` on ``name`` (with its site, if any), which is ``kind``: not a sync function."""
    return (
        f"@blocking marks sync functions; {name} is {kind}. Fix: an async def is not blocking "
        f"(await it); put @blocking on the sync function that does the blocking I/O"
    )


def cannot_mark(name: str, reason: str, fix: str) -> str:
    """``@cpu_bound`` refusing ``name``: a worker process could not import or run it."""
    return f"@cpu_bound cannot mark {name}: it is {reason}. Fix: {fix}"


def process_target_async(kind: str) -> tuple[str, str]:
    """Why an ``async def`` (or async generator) cannot run in a worker process, and the fix."""
    return (
        f"{kind}; CPU-bound work is sync, and in a worker it would only create a coroutine",
        "make it a def (await any I/O in the caller, then run_cpu the computation)",
    )


def process_target_generator() -> tuple[str, str]:
    """Why a generator function cannot run in a worker process, and the fix."""
    return (
        "a generator function; the generator it returns cannot be sent back",
        "return a list (or run_cpu one chunk per call)",
    )


def process_target_nested(outer: str) -> tuple[str, str]:
    """Why a function defined inside ``outer`` cannot run in a worker process, and the fix."""
    return (
        f"defined inside {outer}(): a worker imports functions by module and name, and a "
        f"nested function or closure has none",
        "move it to module level and pass what it uses as arguments (a decorator's wrapper "
        "needs functools.wraps)",
    )


def offload_given_async(
    offload: str, name: str, site: object = "", kind: str = "an async def", *, process: bool = False
) -> str:
    """``run_blocking()`` (any offload) handed ``name``, an ``async def``: it would never run."""
    worker = "a worker process" if process else "a worker thread"
    return (
        f"{offload}() was given {name}{at(site)}, which is {kind}: {worker} would only create "
        f"its coroutine, never run it. Fix: {_await(name, kind)} directly; offload only sync "
        f"(blocking) code"
    )


def offload_given_generator(offload: str, name: str, site: object = "") -> str:
    """An offload (or ``@blocking``) handed ``name``, a generator function (sync).

    A worker thread would only create the generator object; its body, the
    blocking part, would then run on the event loop as the caller iterates it.
    """
    return (
        f"{offload} was given {name}{at(site)}, which is a generator function: a worker "
        f"thread would only create the generator, and its blocking body would then run on "
        f"the event loop as it is iterated. Fix: offload a plain def that returns the whole "
        f"result (return list(...) instead of yield), or consume it in the thread: "
        f"await run_blocking(lambda: list({name}(...)))"
    )


def offload_limiter_order(held: str, wanted: str, site: object, first_site: object) -> str:
    """A thread holding ``held`` offloads to ``wanted`` (at ``site``), the opposite order of one
    seen before (a thread holding ``wanted`` offloaded to ``held`` at ``first_site``)."""
    return (
        f"limiters {held!r} and {wanted!r} are nested in opposite orders: a thread holding "
        f"{held!r} offloads to {wanted!r}{at(site)}, and a thread holding {wanted!r} offloaded "
        f"to {held!r}{at(first_site)}; once both are full, each waits for a token the other "
        f"holds, for good (a deadlock). Fix: nest them in one order everywhere (take "
        f"{wanted!r} first, then {held!r}), or do the inner work in the same thread instead "
        f"of offloading again"
    )


def offload_timed_out(where: str, function: str, limit: float, declared_at: object) -> str:
    """An offloaded call ran past the time limit of ``where`` (``limiter 'db'``, ``process pool``,
    ``queue 'celery'``), declared at ``declared_at``; the caller tells what became of the work."""
    return (
        f"{function} ran past the {limit:g} s time limit of {where}{at(declared_at)}. Fix: make "
        f"the work faster or split it, or raise the limit where it is declared (timeout=...); "
        f"for one call only, wrap it in anyio.fail_after(...) instead"
    )


def offload_given_call_result(offload: str, given: str) -> str:
    """``run_blocking(fetch(url))``: the offload was handed a call's result, not the function."""
    return (
        f"{offload}() was given {given}, the result of calling a function. Fix: pass the "
        f"function and its arguments: await {offload}(fetch, url), not {offload}(fetch(url))"
    )


def proxy_given_async_method(name: str, site: object = "") -> str:
    """``to_async(obj).method`` where ``method`` is async already."""
    return (
        f"{name}{at(site)} is already async; to_async() proxies sync methods. Fix: await it on "
        f"the object itself, without to_async()"
    )


def to_async_given_async_layer(name: str, site: object, role: str) -> str:
    """``to_async(layer)`` for an async layer."""
    return (
        f"to_async() was given {name}{at(site)}, {a(role)}: it is async already. Fix: await its "
        f"methods directly; to_async() is the boundary from async code to sync layers"
    )


def offload_dependency_given_async(name: str, site: object) -> str:
    """``offload_dependency()`` for an async dependency: FastAPI awaits it already."""
    return (
        f"offload_dependency() was given {name}{at(site)}, which is async: FastAPI already "
        f"awaits it on the event loop. Fix: use it directly in Depends()"
    )


# --- worker queues (Celery) ----------------------------------------------------------------


def queue_task_refused(name: str, reason: str, fix: str) -> str:
    """``@queued`` refusing ``name``: a worker could not import it, or would not run its body."""
    return f"@queued cannot make {name} a queued task: it is {reason}. Fix: {fix}"


def queue_target_async(kind: str) -> tuple[str, str]:
    """Why an ``async def`` cannot be a Celery task (celery/celery#6552), and the fix."""
    return (
        f"{kind}; a Celery worker calls a task's function and never awaits it, so it would "
        f"only create a coroutine and the body would never run",
        "make it a def: await the async I/O in the caller and pass its results as arguments",
    )


def queue_argument_not_encodable(
    call: str, label: str, type_name: str, serializer: str, error: str
) -> str:
    """An argument of a queued call that the task's serializer cannot encode."""
    return (
        f"{call} cannot send its {label} to the queue: the {serializer!r} serializer cannot "
        f"encode a {type_name} ({error}); nothing was sent. Fix: pass plain data (numbers, "
        f"str, lists, dicts; kombu's JSON also encodes datetime, Decimal, UUID and bytes): "
        f"model.model_dump(mode='json') for a Pydantic model, dataclasses.asdict(...) for a "
        f"dataclass, a list for a set, an id for an ORM object"
    )


def queue_unavailable(call: str, part: str, url: str, error: str, outcome: str) -> str:
    """The broker or result backend (``part``) at ``url`` could not be reached."""
    return (
        f"{call} could not reach the queue's {part} at {url} ({error}): {outcome}. Fix: start "
        f"the {part} or correct its URL ({'broker_url' if part == 'broker' else 'result_backend'}"
        f" of the Celery app); nothing needs restarting, the next call connects again"
    )


# --- advise: what to do about a route's mode, and the migration plan's boundary -----------


def advise_keep(mode: str) -> str:
    """The route already has the mode the guide recommends."""
    return f"keep it {mode}"


def advise_make_def(endpoint: str) -> str:
    """An ``async def`` route that awaits nothing: premature async."""
    return (
        f"make {endpoint} a plain def (on a SyncRouter): it awaits nothing, so as an async def "
        f"it only holds the event loop; FastAPI runs a def in the threadpool"
    )


def advise_cpu_offload(is_async: bool) -> str:
    """CPU-bound work: sync, and out of the request's thread when it is heavy."""
    return (
        "make the route a def, or await run_cpu(func, ...) so the work runs in a worker process"
        if is_async
        else "keep it sync; when the work is heavy, run it in a worker process "
        "(@cpu_bound, await run_cpu(func, ...) from async code) or hand it to a worker queue"
    )


def advise_migrate(app: str, mode: str, target: str) -> str:
    """The route should change mode: the per-feature plan that says how."""
    when = "when it is proven necessary" if mode == "async" else "now"
    return (
        f"migrate the feature to {mode} {when}, per feature, not globally: "
        f"fastapi-boundary advise {app} --to {mode} {target}"
    )


def advise_plan_drags(layer: str, mode: str, routes: str) -> str:
    """A shared layer: migrating it moves other routes too."""
    return (
        f"{layer} is shared: making it {mode} drags {routes} along (their layers would hold an "
        f"{mode} {layer} and be refused at import time)"
    )


def advise_plan_boundary(layer: str, provider: str) -> str:
    """The explicit boundary that keeps a shared sync layer where it is."""
    return (
        f"keep {layer} sync and cross once: its async user takes AsyncProxy[{layer}] from a "
        f"provider {provider} that returns to_async(...) (each call runs in a worker thread)"
    )
