"""Process offload: CPU-bound functions run in a pool of worker processes (rule R6).

``async def`` does not help CPU-bound work, and a thread does not either (the
GIL); a worker process does.  What this module and `process_targets` add
over ``anyio.to_process.run_sync`` and ``ProcessPoolExecutor``:

- ``@cpu_bound`` (`process_targets`) rejects, when the function is defined,
  what a worker could never import (lambdas, closures, methods, ``async
  def``), instead of failing (or, on old CPython, hanging) at the first call;
- ``run_cpu(f, x, key=1)`` takes keyword arguments, typed with ``ParamSpec``;
  an argument that cannot be pickled is named in the error;
- a worker that dies (signal, ``os._exit``, out of memory) fails only the
  call it was running, with `WorkerCrashedError` naming the function and the
  signal or exit code, and is replaced: the pool never stays broken;
- an exception raised in a worker keeps its type and carries the worker's
  traceback (a note on 3.11+, ``__cause__`` on 3.10);
- cancelling the awaiting task kills the worker and starts another, so a
  timeout really stops the computation and frees its core;
- one pool per process, not per event loop: its workers are plain pipes and
  processes, so the pool is shared by every event loop of a thread (each
  test's loop in turn), started eagerly from a lifespan, shut down cleanly
  and counted for metrics.

Workers are fresh interpreters that load `process_worker` by path: they
start in ~20 ms without importing FastAPI, and import the modules of the
functions they run on first use.  Functions travel as ``module.qualname``.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

import anyio

from .._common.errors import (
    ProcessPicklingError,
    ProcessPoolError,
    ProcessTargetError,
    RemoteTraceback,
    WorkerCrashedError,
)
from . import process_worker as protocol
from .process_targets import call_text, describe, encode_call, target_reference, type_name_of

__all__ = [
    "ProcessPool",
    "ProcessPoolStatistics",
    "default_process_pool",
    "run_cpu",
]

P = ParamSpec("P")
T = TypeVar("T")


# Loads the worker module by path: importing it by name would import the
# package, and with it FastAPI (~0.3 s per worker).  The parent's sys.path
# replaces the worker's with the first message.
_BOOTSTRAP = (
    "import sys\n"
    "if sys.path and not sys.path[0]: del sys.path[0]\n"
    "from importlib.util import module_from_spec, spec_from_file_location\n"
    "spec = spec_from_file_location('_fastapi_boundary_worker', sys.argv[1])\n"
    "worker = module_from_spec(spec)\n"
    "spec.loader.exec_module(worker)\n"
    "worker.main(int(sys.argv[2]), int(sys.argv[3]))\n"
)
_READ_SIZE = 1 << 16
_REAP_KILL_AFTER = 1.0  # seconds a worker whose pipe closed may take to exit before SIGKILL
_START_TIMEOUT = 60.0


# --- answers ------------------------------------------------------------------------------


def _attach_traceback(error: BaseException, text: str, pid: int) -> None:
    """Keep the worker's frames: a note (3.11+) or a ``__cause__`` (3.10), as concurrent.futures."""
    if not text:
        return
    if sys.version_info >= (3, 11):
        error.add_note(f"Worker process {pid}: {text.rstrip()}")
    else:  # pragma: no cover - version dependent
        error.__cause__ = RemoteTraceback(f'\nWorker process {pid}:\n"""\n{text}"""')


def _decode(status: int, body: bytes | memoryview, func: object, pid: int) -> Any:
    if status == protocol.OK:
        try:
            return pickle.loads(body)
        except Exception as error:
            raise ProcessPicklingError(
                f"{describe(func)} returned a value this process cannot unpickle "
                f"({type_name_of(error)}: {error}). Fix: return plain data."
            ) from error
    if status == protocol.RAISED:
        raised, text = pickle.loads(body)
        _attach_traceback(raised, text, pid)
        raise raised
    what, text, worker_tb = pickle.loads(body)
    failure: ProcessTargetError | ProcessPicklingError
    if what == "result":
        failure = ProcessPicklingError(
            f"{describe(func)} returned a {text}: it cannot be pickled to send it back from the "
            f"worker process. Fix: return plain data (numbers, str, bytes, lists, dicts, "
            f"dataclasses of those)."
        )
    elif what == "exception":
        failure = ProcessPicklingError(
            f"{describe(func)} raised {text} in the worker process, and that exception cannot "
            f"be sent back. Fix: give the exception class an __init__ that accepts its .args "
            f"(or a __reduce__)."
        )
    elif what == "target":
        failure = ProcessTargetError(
            f"the worker process cannot import {describe(func)}: {text}. Fix: make its module "
            f"importable without side effects from the same sys.path."
        )
    else:
        failure = ProcessPicklingError(
            f"the worker process cannot unpickle the arguments of {describe(func)}: {text}. "
            f"Fix: pass instances of classes defined at module level of an importable module."
        )
    _attach_traceback(failure, worker_tb, pid)
    raise failure


def _exit_cause(returncode: int) -> str:
    if returncode >= 0:
        return (
            f"exited with code {returncode} (os._exit() or a fatal error in the worker; its "
            f"stderr may say which)"
        )
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name == "SIGKILL":
        return f"was killed by {name} (the out-of-memory killer, a container limit or kill -9)"
    if name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGABRT", "SIGFPE"):
        return f"was killed by {name} (a crash in native code, e.g. a C extension)"
    return f"was killed by {name}"


# --- the pool ----------------------------------------------------------------------------


class _WorkerDied(ProcessPoolError):
    """End of file from a worker: it exited.  ``idle``: before it read anything of ours.

    Internal: `ProcessPool.run` retries on another worker, or turns it into
    `WorkerCrashedError`.
    """

    def __init__(self, idle: bool = False) -> None:
        super().__init__("worker processes keep exiting before they read a request")
        self.idle = idle


class _Worker:
    __slots__ = ("closed", "generation", "pid", "process", "ready", "recv_fd", "send_fd", "stop")

    def __init__(self, process: subprocess.Popen[bytes], send_fd: int, recv_fd: int, gen: int):
        self.process = process
        self.pid = process.pid
        self.send_fd = send_fd  # requests; non-blocking (so are the answers on recv_fd)
        self.recv_fd = recv_fd
        self.generation = gen
        self.ready = False
        self.closed = False
        self.stop = ""  # why the pool killed it, for the error of the call it was running

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.send_fd)
            os.close(self.recv_fd)


def _spawn_process(generation: int) -> _Worker:
    if sys.platform == "win32":  # pragma: no cover - POSIX only
        raise ProcessPoolError(
            "run_cpu() passes pipes to its workers the POSIX way; Windows is not supported yet. "
            "Fix: use anyio.to_process.run_sync there."
        )
    # Pipes, not a socket pair: a round trip costs about 4 us less.
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-c",
                _BOOTSTRAP,
                protocol.__file__,
                str(request_r),
                str(response_w),
            ],
            stdin=subprocess.DEVNULL,
            pass_fds=(request_r, response_w),
        )
    except BaseException:
        for fd in (request_w, response_r):
            os.close(fd)
        raise
    finally:
        os.close(request_r)
        os.close(response_w)
    os.set_blocking(request_w, False)
    os.set_blocking(response_r, False)
    worker = _Worker(process, request_w, response_r, generation)
    init = pickle.dumps((protocol.INIT, list(sys.path)), protocol=pickle.HIGHEST_PROTOCOL)
    os.write(request_w, protocol.REQUEST_HEADER.pack(len(init)) + init)  # fits the pipe buffer
    return worker


def _terminate(*groups: Iterable[_Worker]) -> None:
    """Stop workers synchronously: end of file first, SIGKILL after a second.

    Used by the finalizer at interpreter exit and when a pool is collected,
    so it never waits long and never leaves a zombie.
    """
    workers = [worker for group in groups for worker in group]
    for worker in workers:
        worker.close()  # end of file: an idle worker exits at once
    deadline = time.monotonic() + _REAP_KILL_AFTER
    for worker in workers:
        try:
            worker.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


class _Waiter:
    __slots__ = ("event", "worker")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.worker: _Worker | None = None


@dataclass(frozen=True)
class ProcessPoolStatistics:
    """A snapshot of a process pool, for metrics."""

    size: int
    """Most worker processes the pool runs at once."""
    alive: int
    """Worker processes running now (idle, busy or starting)."""
    busy: int
    """Workers running a call."""
    waiting: int
    """Callers waiting for a free worker."""
    replaced: int
    """Workers that died or were killed during a call (crash, cancellation) since creation."""


MAX_PROCESSES = 1_024
"""More worker processes than this is a typo (each is an interpreter), not a sizing choice."""


def check_size(size: object) -> int:
    if size is None:
        return os.cpu_count() or 1
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PROCESSES:
        raise ProcessPoolError(
            f"a process pool needs a whole number of workers >= 1 and <= {MAX_PROCESSES}; "
            f"got {size!r}. Fix: leave it unset (one per CPU) or size it from the cores you "
            f"can use."
        )
    return size


class ProcessPool:
    """Worker processes for CPU-bound calls; one per process is usually enough.

    Workers start on demand (or all at once with `start`) and live until
    `shutdown`, which may be followed by more calls: they start new workers.
    The pool is not tied to an event loop: every loop of the thread that is
    using it may call it (tests run each in its own loop).  Calls from two
    threads' loops at the same time are refused, since a worker's pipe is
    watched by one loop at a time.

    Cancelling a call kills its worker (the computation stops and frees its
    core) and starts a new one.  Use it as ``async with pool:`` in a lifespan
    to start workers eagerly and stop them on the way out.
    """

    def __init__(self, size: int | None = None) -> None:
        self._size = check_size(size)
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []
        self._retiring: list[_Worker] = []
        self._waiters: deque[_Waiter] = deque()
        self._generation = 0
        self._replaced = 0
        self._thread: int | None = None
        self._calls = 0
        self._changed: anyio.Event | None = None  # set when a worker leaves, for shutdown
        # Also runs at interpreter exit: no orphan workers, no hang.
        self._finalizer = weakref.finalize(self, _terminate, self._workers, self._retiring)

    @property
    def size(self) -> int:
        """Most worker processes the pool runs at once."""
        return self._size

    def resize(self, size: int | None) -> None:
        """Change the size (``None``: one per CPU); extra workers stop when they are idle."""
        self._size = check_size(size)
        while len(self._workers) > self._size and self._idle:
            self._retire(self._idle.pop(0))
        self._serve_waiters()

    def statistics(self) -> ProcessPoolStatistics:
        """Workers alive, busy, callers waiting, and workers replaced so far."""
        alive = len(self._workers)
        return ProcessPoolStatistics(
            self._size, alive, alive - len(self._idle), len(self._waiters), self._replaced
        )

    async def start(self) -> None:
        """Start every worker now and wait until each is ready.

        Call it from a lifespan: the first requests then do not pay for
        starting interpreters, and a worker that cannot start fails the
        application's start-up instead of a request.
        """
        self._claim_thread()
        while len(self._workers) < self._size:
            self._idle.append(self._spawn())
        starting = [worker for worker in self._idle if not worker.ready]
        for worker in starting:
            self._idle.remove(worker)
        try:
            with anyio.fail_after(_START_TIMEOUT):
                for worker in starting:
                    await self._ready(worker, None)
        finally:
            for worker in starting:
                if worker in self._workers:
                    self._release(worker)

    async def shutdown(self, grace_period: float = 10.0) -> None:
        """Stop the workers running now and wait until they have exited.

        Idle workers stop at once; busy ones when their call returns, or are
        killed after ``grace_period`` seconds (their callers get
        `WorkerCrashedError`).  Calls made during or after the shutdown start
        new workers.
        """
        self._claim_thread()
        self._generation += 1
        generation = self._generation
        for worker in self._idle:
            self._retire(worker, serve=False)
        self._idle.clear()
        try:
            with anyio.move_on_after(grace_period):
                await self._wait_gone(generation)
        finally:
            with anyio.CancelScope(shield=True):
                for worker in self._old_workers(generation):
                    worker.stop = (
                        f"was killed by the pool's shutdown (still busy after the "
                        f"{grace_period} s grace period)"
                    )
                    worker.process.kill()
                with anyio.move_on_after(_REAP_KILL_AFTER):
                    await self._wait_gone(generation)  # their callers discard them
                for worker in self._old_workers(generation):  # callers whose loop is gone
                    await self._discard(worker)
                await self._reap_retiring()

    async def _wait_gone(self, generation: int) -> None:
        try:
            while self._old_workers(generation):
                self._changed = anyio.Event()
                await self._changed.wait()
        finally:
            self._changed = None

    def _claim_thread(self) -> None:
        """Refuse a second thread while calls are in flight: a pipe is watched by one loop."""
        thread = threading.get_ident()
        if thread != self._thread:
            if self._calls:
                raise ProcessPoolError(
                    f"this process pool is in use by an event loop in another thread "
                    f"({self._thread}). Fix: give each thread that runs an event loop its own "
                    f"ProcessPool."
                )
            self._thread = thread

    async def __aenter__(self) -> ProcessPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` in a worker process and return its result.

        ``func`` must be importable by module and name (see `cpu_bound`);
        arguments and result travel pickled.  Raises what ``func`` raised
        (with the worker's traceback), `ProcessTargetError` or
        `ProcessPicklingError` before anything is sent, and
        `WorkerCrashedError` if the worker died.
        """
        reference = target_reference(func)
        request = encode_call(reference, func, args, kwargs)
        if threading.get_ident() != self._thread:
            self._claim_thread()
        self._calls += 1
        try:
            for attempt in range(3):
                worker = await self._acquire()
                try:
                    status, body = await self._exchange(worker, request, func)
                except _WorkerDied:  # before it read our request: nothing ran, use another
                    if attempt == 2:
                        raise
                    continue
                return cast(T, _decode(status, body, func, worker.pid))
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self._calls -= 1

    # --- workers ---

    def _spawn(self) -> _Worker:
        worker = _spawn_process(self._generation)
        self._workers.add(worker)
        if self._retiring:
            self._poll_retiring()
        return worker

    async def _acquire(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if len(self._workers) < self._size:
            return self._spawn()
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.worker is not None:
                self._release(waiter.worker)  # handed over as we were cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise
        if waiter.worker is None:  # pragma: no cover - set before the event
            raise ProcessPoolError("internal error: woken without a worker")
        return waiter.worker

    def _release(self, worker: _Worker) -> None:
        if worker.generation != self._generation or len(self._workers) > self._size:
            self._retire(worker)
        elif self._waiters:
            waiter = self._waiters.popleft()
            waiter.worker = worker
            waiter.event.set()
        else:
            self._idle.append(worker)

    def _serve_waiters(self) -> None:
        while self._waiters and len(self._workers) < self._size:
            waiter = self._waiters.popleft()
            waiter.worker = self._spawn()
            waiter.event.set()

    def _retire(self, worker: _Worker, *, serve: bool = True) -> None:
        """Let a healthy worker exit: end of file on its pipe; reaped later."""
        self._forget(worker)
        worker.close()
        self._retiring.append(worker)
        if serve:
            self._serve_waiters()

    def _forget(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        if self._changed is not None:
            self._changed.set()

    def _poll_retiring(self) -> None:
        self._retiring[:] = [w for w in self._retiring if w.process.poll() is None]

    async def _reap_retiring(self) -> None:
        while self._retiring:
            await _reap(self._retiring.pop().process)

    async def _discard(self, worker: _Worker) -> int:
        """Forget a dead (or killed) worker, reap it and start its replacement."""
        replace = worker in self._workers and worker.generation == self._generation
        self._forget(worker)
        worker.close()
        returncode = await _reap(worker.process)
        if replace and len(self._workers) < self._size:
            self._replaced += 1
            if self._waiters:
                self._serve_waiters()
            else:
                self._idle.append(self._spawn())  # keep the pool warm
        return returncode

    def _old_workers(self, generation: int) -> list[_Worker]:
        return [worker for worker in self._workers if worker.generation < generation]

    # --- one call ---

    async def _ready(self, worker: _Worker, func: object) -> None:
        """Wait for the worker's answer to its start-up message."""
        try:
            await _receive(worker.recv_fd)
        except _WorkerDied:
            returncode = await self._discard(worker)
            before = f", before it could run {describe(func)}" if func is not None else ""
            if worker.stop:  # our own shutdown killed it: no crash to investigate
                message = (
                    f"a worker process (pid {worker.pid}) {worker.stop} while starting{before}."
                )
            else:
                message = (
                    f"a worker process (pid {worker.pid}) {_exit_cause(returncode)} while "
                    f"starting{before}. Its stderr says why. Fix: check that {sys.executable} "
                    f"starts and that the modules on sys.path import without error."
                )
            raise WorkerCrashedError(message, exitcode=returncode) from None
        worker.ready = True

    async def _exchange(
        self, worker: _Worker, request: bytes, func: object
    ) -> tuple[int, memoryview]:
        """Send one request and read its answer; the worker is released or replaced after."""
        try:
            if not worker.ready:
                await self._ready(worker, func)
            await _send(worker.send_fd, request)
            answer = await _receive(worker.recv_fd)
        except _WorkerDied as died:
            if died.idle and worker.ready:
                await self._discard(worker)
                raise
            returncode = await self._discard(worker)
            if worker.stop:  # our own shutdown killed it: say so, not what a SIGKILL may mean
                what = f"{worker.stop}. Calls made after the shutdown start new workers."
            else:
                what = (
                    f"{_exit_cause(returncode)} while running it. The pool replaced the "
                    f"worker; the next call runs in a new one."
                )
            raise WorkerCrashedError(
                f"{call_text(func)}: the worker process (pid {worker.pid}) {what}",
                exitcode=returncode,
            ) from None
        except WorkerCrashedError:
            raise
        except BaseException:  # cancelled (or interrupted) mid-call: the stream is out of step
            with anyio.CancelScope(shield=True):
                worker.process.kill()
                await self._discard(worker)
            raise
        self._release(worker)
        return answer


async def _reap(process: subprocess.Popen[bytes]) -> int:
    """Wait for a worker whose pipes are closed to exit; SIGKILL it if it lingers.

    Shielded: an unreaped worker would stay a zombie.
    """
    returncode = process.poll()
    with anyio.CancelScope(shield=True):
        delay = 0.0002
        kill_at = anyio.current_time() + _REAP_KILL_AFTER
        while returncode is None:
            if anyio.current_time() >= kill_at:
                process.kill()
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.05)
            returncode = process.poll()
    return returncode if returncode is not None else process.wait()


class _FileDescriptor:
    """A pipe as anyio 4.4-4.6's ``wait_socket_*`` accept it: they only call ``fileno()``."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


def _via_socket_api(
    wait: Callable[[socket.socket], Awaitable[None]],
) -> Callable[[int], Awaitable[None]]:
    return lambda fd: wait(cast(socket.socket, _FileDescriptor(fd)))


# anyio >= 4.7 waits on any file descriptor; older versions only through the socket API
# (CI runs the tests on anyio 4.4).
_wait_readable: Callable[[int], Awaitable[None]] = getattr(
    anyio, "wait_readable", None
) or _via_socket_api(anyio.wait_socket_readable)
_wait_writable: Callable[[int], Awaitable[None]] = getattr(
    anyio, "wait_writable", None
) or _via_socket_api(anyio.wait_socket_writable)


async def _send(fd: int, data: bytes) -> None:
    sent = 0
    view = memoryview(data)
    while True:
        try:
            sent += os.write(fd, view[sent:])
        except BlockingIOError:
            pass
        except BrokenPipeError:
            raise _WorkerDied(idle=sent == 0) from None
        if sent == len(data):
            return
        await _wait_writable(fd)


async def _receive(fd: int) -> tuple[int, memoryview]:
    header_size = protocol.RESPONSE_HEADER.size
    data = bytearray()
    total = header_size
    while len(data) < total:
        await _wait_readable(fd)
        try:
            chunk = os.read(fd, max(_READ_SIZE, min(total - len(data), _READ_SIZE * 16)))
        except BlockingIOError:
            continue
        if not chunk:
            raise _WorkerDied
        data += chunk
        if total == header_size and len(data) >= header_size:
            total += protocol.RESPONSE_HEADER.unpack_from(data)[1]
    status: int = data[0]
    return status, memoryview(data)[header_size:]


_default_pool: ProcessPool | None = None


def default_process_pool() -> ProcessPool:
    """The process-wide pool `run_cpu` uses (created on first use, one worker per CPU)."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ProcessPool()
    return _default_pool


async def run_cpu(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a CPU-bound function in a worker process of the default pool and await its result.

    ``await run_cpu(resize, image, width=200)``: keyword arguments are
    passed through and mypy checks them against ``func``'s signature.  See
    `ProcessPool.run` for what it raises; cancelling the call kills the
    worker (and starts another).
    """
    return await (_default_pool or default_process_pool()).run(func, *args, **kwargs)
