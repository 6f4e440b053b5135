"""The performance reality check: the monitor's profile under real traffic, classified by advise.

A real uvicorn on 127.0.0.1 (its socket bound by the test, so no port race) serves a
route that awaits ``anyio.sleep(0.05)``, one that spends 50 ms of its thread's CPU
time and one that awaits ``run_blocking(time.sleep, 0.05)`` (a blocking driver behind
an offload); a bounded, sequential load; the profile is written when the server stops.
The margins are huge: one route's time is all waiting, one's all computing (or waiting
for a CPU, which counts as computing on a loaded machine), one's all in a thread offload.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fastapi_boundary._advise.profile_reading import measure, thread_advice
from fastapi_boundary._common.errors import BoundaryError
from fastapi_boundary._runtime.profile_format import (
    LimiterUse,
    Profile,
    RouteTimes,
    read_profile,
)
from fastapi_boundary.cli import main
from tests.helpers import WAIT

APP = """
import time

import anyio
from fastapi import FastAPI

from fastapi_boundary import MonitorConfig, install, run_blocking

app = FastAPI()


@app.get("/wait")
async def wait() -> str:
    await anyio.sleep(0.05)
    return "waited"


@app.get("/compute")
def compute() -> int:
    end = time.thread_time() + 0.05
    spins = 0
    while time.thread_time() < end:
        spins += 1
    return spins


@app.get("/blocking")
async def blocked() -> str:
    await run_blocking(time.sleep, 0.05)
    return "slept"


install(
    app,
    monitor=MonitorConfig(profile={profile!r}, profile_sample_rate=1.0, opentelemetry=False),
)
"""

SERVE = """
import socket, sys
import uvicorn
sock = socket.socket(fileno=int(sys.argv[2]))
config = uvicorn.Config(sys.argv[1], loop="asyncio", log_level="warning", lifespan="on")
uvicorn.Server(config).run(sockets=[sock])
"""

HAS_SCHEDSTAT = pytest.mark.skipif(
    not os.path.exists("/proc/thread-self/schedstat"),
    reason="needs Linux's /proc/thread-self/schedstat: without it a CPU-bound thread waiting "
    "for a core on a loaded machine cannot be told from a blocked one",
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes], str]]:
    module = f"profiled_{uuid.uuid4().hex[:8]}"
    profile = tmp_path / "profile.json"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(APP).format(profile=str(profile)))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, f"{module}:app", str(listener.fileno())],
        cwd=tmp_path,
        pass_fds=[listener.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}", profile, process, module
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
        if process.stdout is not None:
            process.stdout.close()
        sys.modules.pop(module, None)


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll until the server answers (its lifespan, and so the monitor, has started)."""
    deadline = time.monotonic() + WAIT
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            httpx.get(f"{url}/wait", timeout=WAIT)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)


@pytest.mark.slow
@HAS_SCHEDSTAT
def test_a_recorded_profile_tells_waiting_from_computing(
    served: tuple[str, Path, subprocess.Popen[bytes], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, path, process, module = served
    wait_ready(url, process)
    with httpx.Client(base_url=url, timeout=WAIT) as client:
        for _ in range(8):  # bounded load: 16 requests, one at a time
            assert client.get("/wait").json() == "waited"
            assert client.get("/compute").json() > 0
            assert client.get("/blocking").json() == "slept"
    process.send_signal(signal.SIGINT)  # a graceful stop: the lifespan ends, the file is written
    assert process.wait(WAIT) in (0, -signal.SIGINT)  # newer uvicorn re-raises the signal
    profile = read_profile(path)
    assert profile.routes["GET /wait"].requests == 9  # 8 and the readiness probe
    assert profile.routes["GET /compute"].requests == 8
    offloaded = profile.routes["GET /blocking"]
    assert offloaded.requests == 8 and offloaded.offload_thread >= 8 * 0.05 * 0.9
    assert profile.routes["GET /wait"].offload_thread == 0.0
    assert profile.peak_sync_threads >= 1
    assert profile.limiters["default"].total == 40

    argv = ["advise", f"{module}:app", "--app-dir", str(tmp_path), "--format", "json"]
    assert main([*argv, "--profile", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    routes = {item["route"]: item for item in document["routes"]}
    waiting, computing = routes["GET /wait"], routes["GET /compute"]
    assert waiting["measured"]["verdict"] == "waiting"
    assert waiting["measured"]["text"].startswith("waiting dominates (")
    assert waiting["measured"]["text"].endswith("): async pays")
    assert (waiting["mode"], waiting["confidence"]) == ("async", "high")
    assert computing["measured"]["verdict"] == "cpu"
    assert computing["measured"]["text"].startswith("CPU dominates (")
    assert (computing["mode"], computing["row"]) == ("sync", "cpu-heavy")
    assert "sync is as fast and simpler" in computing["reason"]
    blocking = routes["GET /blocking"]["measured"]
    assert (blocking["verdict"], blocking["thread_offloads"]) == ("waiting", True)
    assert blocking["text"].startswith("a blocking driver is in the path, ")
    assert blocking["text"].endswith("): sync is as fast and simpler")
    assert routes["GET /blocking"]["mode"] == "sync"
    assert not waiting["measured"]["thread_offloads"]
    assert document["threads"]["pool"] == 40
    assert document["threads"]["peak_sync_threads"] >= 1


def test_the_verdicts_from_the_shares() -> None:
    waiting = measure(RouteTimes(requests=4, wall=0.2, loop=0.002, loop_cpu=0.002))
    computing = measure(
        RouteTimes(
            requests=4,
            wall=0.6,
            loop=0.004,
            loop_cpu=0.004,
            thread=0.59,
            thread_cpu=0.2,
            thread_delay=0.38,
        )
    )
    blocked = measure(RouteTimes(requests=4, wall=0.2, thread=0.195, thread_cpu=0.001))
    fast = measure(RouteTimes(requests=1000, wall=0.5, loop=0.4, loop_cpu=0.4))
    assert waiting is not None and waiting.verdict == "waiting" and not waiting.in_thread
    assert computing is not None and computing.verdict == "cpu"
    assert blocked is not None and (blocked.verdict, blocked.in_thread) == ("waiting", True)
    assert blocked.verdict_text().startswith("waiting dominates, in a blocked worker thread")
    assert fast is not None and fast.verdict == "fast"
    assert measure(RouteTimes()) is None


def test_the_verdicts_of_offloaded_time() -> None:
    driver = measure(
        RouteTimes(requests=4, wall=0.2, loop=0.002, loop_cpu=0.002, offload_thread=0.195)
    )
    assert driver is not None and (driver.verdict, driver.in_offload) == ("waiting", True)
    assert not driver.in_thread and driver.awaiting < 0.05
    assert driver.verdict_text().startswith("a blocking driver is in the path, 98% of the time")
    assert driver.verdict_text().endswith("sync is as fast and simpler")
    processes = measure(
        RouteTimes(requests=4, wall=0.2, loop=0.002, loop_cpu=0.002, offload_process=0.195)
    )
    assert processes is not None and (processes.verdict, processes.in_process) == ("cpu", True)
    assert processes.verdict_text().endswith("keep the process offload")
    # awaiting real I/O with a short offload on the way: still waiting on I/O
    io = measure(RouteTimes(requests=4, wall=0.2, loop=0.002, loop_cpu=0.002, offload_thread=0.02))
    assert io is not None and io.verdict == "waiting" and not io.in_offload
    assert io.verdict_text().endswith("): async pays")


def test_a_version_1_profile_reads_with_no_offload_time(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    times = {"requests": 2, "wall": 0.1, "loop": 0.01, "thread": 0.0, "awaiting": 0.09}
    document = {"format": "fastapi-boundary-profile", "version": 1, "routes": {"GET /a": times}}
    path.write_text(json.dumps(document))
    read = read_profile(path).routes["GET /a"]
    assert (read.offload_thread, read.offload_process) == (0.0, 0.0)
    assert abs(read.awaiting - 0.09) < 1e-9
    Profile(routes={"GET /a": RouteTimes(requests=1, wall=0.1, offload_thread=0.08)}).write(path)
    assert json.loads(path.read_text())["version"] == 2
    again = read_profile(path).routes["GET /a"]
    assert again.offload_thread == 0.08 and abs(again.awaiting - 0.02) < 1e-9


def test_threads_held_against_the_pool_and_the_database_pool() -> None:
    profile = Profile(peak_sync_threads=7, limiters={"default": LimiterUse(40, 6, 0)})
    advice = thread_advice(profile, database=15)
    assert advice.size == 15
    assert advice.text == (
        "the sync routes held at most 7 thread(s) at once of the threadpool's 40; the database "
        "pool has 15 connection(s), so a thread beyond 15 only waits for a connection: size the "
        'limiter to 15 (Limiter("db", pool=engine), or install(app, threads=15))'
    )
    queued = thread_advice(
        Profile(peak_sync_threads=40, limiters={"default": LimiterUse(40, 40, 12)}), None
    )
    assert queued.size == 80 and "12 task(s) waited for one" in queued.text


def test_a_profile_of_another_format_or_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"format": "fastapi-boundary-profile", "version": 99}))
    with pytest.raises(BoundaryError, match="version 99; this fastapi-boundary reads up to"):
        read_profile(path)
    path.write_text(json.dumps({"routes": {}}))
    with pytest.raises(BoundaryError, match="is not a profile: its format is not"):
        read_profile(path)
    written = Profile(routes={"GET /a": RouteTimes(requests=2, wall=0.1, loop=0.05)})
    written.write(path)
    assert read_profile(path).routes["GET /a"].loop == 0.05


def test_advise_refuses_a_profile_it_cannot_read_before_loading_the_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["advise", "not_loaded.main:app", "--profile", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot read the profile {missing}: " in err
    assert "Fix: pass the file the monitor wrote" in err
    assert "loading not_loaded.main:app" not in err
