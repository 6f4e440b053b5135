"""The process pool's fault battery: real workers, a real uvicorn, no mocks, bounded waits.

Each test names a guarantee that docs/offloading.md states for processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from fastapi_boundary._common.errors import (
    OffloadTimeoutError,
    ProcessPicklingError,
    WorkerCrashedError,
)
from fastapi_boundary._offload.process_pool import ProcessPool
from tests.helpers import ANYIO_BACKENDS, ROOT, WAIT, line_of, wait_until
from tests.samples import process_targets as targets

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc: Linux only"
)

HERE = os.path.relpath(__file__)
TARGETS = os.path.relpath(targets.__file__)


@pytest.fixture(params=ANYIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count: it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def recorded(directory: Path, prefix: str) -> list[int]:
    return [int(p.name.split("-")[1]) for p in directory.iterdir() if p.name.startswith(prefix)]


# --- time limits and cancellation --------------------------------------------------------------


@pytest.mark.anyio
async def test_a_hung_call_past_the_pools_limit_is_killed_and_named(tmp_path: Path) -> None:
    pool = ProcessPool(1, timeout=0.5)
    line = line_of(test_a_hung_call_past_the_pools_limit_is_killed_and_named, "ProcessPool(1,")
    worker = await pool.run(targets.pid)  # the one worker: the hung call runs there too
    with pytest.raises(OffloadTimeoutError) as caught:
        await pool.run(targets.hang, str(tmp_path))
    message = str(caught.value)
    assert message.startswith(
        f"run_cpu(hang) ({TARGETS}:{line_of(targets.hang, 'def hang')}) ran past the 0.5 s time "
        f"limit of the process pool ({HERE}:{line})."
    )
    assert f"It stopped: its worker process (pid {worker}) was killed" in message
    assert "raise the limit where it is declared (timeout=...)" in message
    assert caught.value.limit == 0.5 and caught.value.declared_at == f"{HERE}:{line}"
    assert isinstance(caught.value, TimeoutError)
    await wait_until(lambda: not alive(worker), "the hung worker to be gone")
    assert pool.statistics().replaced == 1
    assert (await pool.run(targets.scaled_sum, 1, 2))[1] == 3  # the pool serves on
    await pool.shutdown()


@pytest.mark.anyio
async def test_fail_after_around_a_call_kills_its_worker(tmp_path: Path) -> None:
    """A caller's own deadline (or a client that went away) cancels the call: the worker dies."""
    pool = ProcessPool(1, timeout=None)
    worker = await pool.run(targets.pid)  # the one worker: the hung call runs there too
    with pytest.raises(TimeoutError), anyio.fail_after(0.5):
        await pool.run(targets.hang, str(tmp_path))
    await wait_until(lambda: not alive(worker), "the cancelled call's worker to be gone")
    assert pool.statistics().replaced == 1
    assert (await pool.run(targets.pid)) != worker
    await pool.shutdown()


@pytest.mark.anyio
async def test_cancelling_the_awaiting_task_frees_the_pool_for_the_next_caller(
    tmp_path: Path,
) -> None:
    """Two hung calls on a pool of 2 do not make later calls queue forever once cancelled."""
    pool = ProcessPool(2, timeout=None)
    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(pool.run, targets.hang, str(tmp_path))
        await wait_until(lambda: len(recorded(tmp_path, "worker-")) == 2, "two hung calls")
        group.cancel_scope.cancel()  # what a disconnect does to the request's task
    assert not any(alive(pid) for pid in recorded(tmp_path, "worker-"))
    assert (await pool.run(targets.scaled_sum, 2, 2))[1] == 4
    await pool.shutdown()


# --- crashes -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_crash_is_noticed_while_a_grandchild_lingers(tmp_path: Path) -> None:
    pool = ProcessPool(1)
    with pytest.raises(WorkerCrashedError, match="was killed by SIGKILL"):
        await pool.run(targets.leave_grandchild_and_die, str(tmp_path))
    (grandchild,) = recorded(tmp_path, "grandchild-")
    try:
        assert alive(grandchild)  # the error came while the grandchild still runs
    finally:
        os.kill(grandchild, signal.SIGKILL)
    assert (await pool.run(targets.scaled_sum, 1, 1))[1] == 2
    await pool.shutdown()


@pytest.mark.anyio
async def test_an_exception_class_only_the_worker_has_is_named(tmp_path: Path) -> None:
    pool = ProcessPool(1)
    with pytest.raises(ProcessPicklingError) as caught:
        await pool.run(targets.raises_from_private_module, str(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"raises_from_private_module ({TARGETS}:")
    assert "raised an exception in the worker process that this process cannot unpickle" in message
    assert "No module named 'worker_only_errors'" in message
    assert "Fix: define the exception class at module level of a module both processes" in message
    await pool.shutdown()


# --- what a call cannot reach or leave behind --------------------------------------------------


@pytest.mark.anyio
async def test_a_targets_children_cannot_reach_the_pools_pipes() -> None:
    pool = ProcessPool(1)
    worker, (stdin, stdout, stderr) = await pool.run(targets.shell_out, "noise")  # no corruption
    assert stdin == "/dev/null"  # not anyio's request pipe
    assert stdout == stderr  # not anyio's answer pipe: the server's stderr
    assert stderr == os.readlink("/proc/self/fd/2")
    for _ in range(3):  # the stream stays in step
        assert await pool.run(targets.pid) == worker
    await pool.shutdown()


@pytest.mark.anyio
async def test_per_call_state_is_put_back(tmp_path: Path) -> None:
    pool = ProcessPool(1)
    worker, last, cwd, nofile = await pool.run(targets.state)
    assert await pool.run(targets.change_state, "/nowhere", str(tmp_path), 64) == worker
    assert await pool.run(targets.state) == (worker, last, cwd, nofile)
    await pool.shutdown()


@pytest.mark.anyio
async def test_a_worker_whose_hard_limit_was_lowered_is_retired() -> None:
    pool = ProcessPool(1)
    worker = await pool.run(targets.lower_hard_limit, 200)
    await wait_until(lambda: not alive(worker), "the tainted worker to be retired")
    assert await pool.run(targets.pid) != worker
    await pool.shutdown()


@pytest.mark.anyio
async def test_a_long_sys_path_reaches_the_worker() -> None:
    extra = [f"/nonexistent/entry-{index:04d}-{'x' * 40}" for index in range(2000)]  # > 64 KiB
    sys.path.extend(extra)
    try:
        pool = ProcessPool(1)
        _, length = await pool.run(targets.path_length)
    finally:
        del sys.path[-len(extra) :]
    assert length >= 2000
    await pool.shutdown()


@pytest.mark.anyio
async def test_ctrl_c_reaching_an_idle_worker_is_ignored() -> None:
    pool = ProcessPool(1)
    worker = await pool.run(targets.pid)
    os.kill(worker, signal.SIGINT)  # a terminal's Ctrl+C reaches the whole process group
    assert await pool.run(targets.scaled_sum, 3, 4) == (worker, 7)
    await pool.shutdown()


@pytest.mark.anyio
async def test_a_worker_imports_no_framework() -> None:
    pool = ProcessPool(1)
    assert await pool.run(targets.imports_fastapi) is False
    await pool.shutdown()


# --- the server goes away ----------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], socket.socket]]:
    """uvicorn serving tests.samples.process_server on a socket of ours (127.0.0.1)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    environment = dict(os.environ, PROCESS_GATE=str(tmp_path))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--fd",
            str(listener.fileno()),
            "--timeout-graceful-shutdown",
            "1",
            "tests.samples.process_server:app",
        ],
        cwd=ROOT,
        env=environment,
        pass_fds=(listener.fileno(),),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, listener
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
        listener.close()


async def _hang_one_request(
    server: tuple[subprocess.Popen[bytes], socket.socket], directory: Path
) -> tuple[socket.socket, int]:
    _, listener = server
    client = socket.create_connection(listener.getsockname(), timeout=WAIT)
    client.sendall(b"GET /hang HTTP/1.1\r\nHost: test\r\n\r\n")
    await wait_until(lambda: len(recorded(directory, "worker-")) == 1, "the hung call's worker")
    (worker,) = recorded(directory, "worker-")
    return client, worker


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sigkill_of_the_server_takes_its_workers_along(
    server: tuple[subprocess.Popen[bytes], socket.socket], tmp_path: Path
) -> None:
    client, worker = await _hang_one_request(server, tmp_path)
    server[0].kill()
    await wait_until(lambda: not alive(worker), "the hung worker to die with the server", 5)
    client.close()


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sigterm_with_a_hung_call_exits_and_kills_the_worker(
    server: tuple[subprocess.Popen[bytes], socket.socket], tmp_path: Path
) -> None:
    """uvicorn's graceful shutdown cancels the request after its grace period: the worker dies."""
    client, worker = await _hang_one_request(server, tmp_path)
    server[0].terminate()
    await wait_until(lambda: server[0].poll() is not None, "the server to exit")
    await wait_until(lambda: not alive(worker), "the hung worker to be gone")
    client.close()


# --- fork ----------------------------------------------------------------------------------------

_FORK_SCRIPT = """
import os, sys, threading, anyio
from fastapi_boundary._offload.process_pool import ProcessPool
from tests.samples import process_targets as targets

pool = ProcessPool(2)

def child_calls(results):
    async def calls():
        for n in range(20):
            worker, value = await pool.run(targets.scaled_sum, n, 0)
            results.append((worker, value == n, os.getpid()))
    anyio.run(calls)

async def main():
    parents = {(await pool.run(targets.scaled_sum, 1, 0))[0]}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own event loop, in a thread, as a server's worker would
        results = []
        thread = threading.Thread(target=child_calls, args=(results,))
        thread.start()
        thread.join()
        ok = all(right for _, right, _ in results) and len(results) == 20
        mine = {worker for worker, _, _ in results}
        os.write(write, repr((ok, sorted(mine))).encode())
        os._exit(0)
    os.close(write)
    for n in range(20):  # the parent goes on with its own workers meanwhile
        worker, value = await pool.run(targets.scaled_sum, n, 0)
        assert value == n
        parents.add(worker)
    answer = b""
    while chunk := os.read(read, 4096):
        answer += chunk
    os.waitpid(pid, 0)
    ok, mine = eval(answer)
    print(ok, bool(set(mine) & parents), flush=True)

if __name__ == "__main__":
    anyio.run(main)
"""


@pytest.mark.slow
def test_a_child_forked_after_use_never_talks_to_the_parents_workers(tmp_path: Path) -> None:
    script = tmp_path / "fork_after_use.py"
    script.write_text(_FORK_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]  # right answers, no shared worker


# --- the default pool's limit, set where the app is installed -----------------------------------


def test_install_sets_the_default_pools_limit_and_the_error_names_it(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from fastapi_boundary import install
    from fastapi_boundary._offload.process_pool import (
        DEFAULT_TIMEOUT,
        default_process_pool,
        run_cpu,
    )

    app = FastAPI()

    @app.get("/hang")
    async def hang_route() -> None:
        await run_cpu(targets.hang, str(tmp_path))

    before = default_process_pool().timeout
    assert before == DEFAULT_TIMEOUT
    install(app, check="off", process_timeout=0.5)
    line = line_of(test_install_sets_the_default_pools_limit_and_the_error_names_it, "install(")
    try:
        with TestClient(app) as client, pytest.raises(OffloadTimeoutError) as caught:
            client.get("/hang")
    finally:
        default_process_pool().set_timeout(before, "the default pool", "restore")
    assert f"ran past the 0.5 s time limit of the process pool ({HERE}:{line})" in str(caught.value)
    for worker in recorded(tmp_path, "worker-"):  # (a loaded machine may not have got there)
        await_gone(worker)


def await_gone(pid: int) -> None:
    """Wait (bounded) for a process to be gone, from sync code."""
    anyio.run(wait_until, lambda: not alive(pid), f"process {pid} to be gone")
