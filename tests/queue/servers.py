"""Real Redis servers and real Celery worker processes for the queue tests and the benchmark.

Nothing is faked: `RedisServer` runs ``redis-server`` on 127.0.0.1 on a free
port, `CeleryWorker` runs ``celery worker`` (prefork) in a process group of
its own.  Both wait for the condition that means "ready" (a PONG, the
worker's ``ready.`` log line) with a bound only a hang reaches, and both
stop for good (the group killed if it does not exit), so no process outlives
its fixture even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0
URL_VARIABLE = "FASTAPI_BOUNDARY_QUEUE_URL"  # what the workers read (tests/queue/tasks.py)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Block until ``predicate()`` holds (sync fixtures); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ping(host: str, port: int) -> bool:
    """Whether a Redis server answers PING there."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop_group(process: subprocess.Popen[bytes], first: signal.Signals, grace: float) -> None:
    """Signal the process group, wait ``grace`` seconds, then kill what is left of it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children left behind, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=WAIT)


class RedisServer:
    """A ``redis-server`` on 127.0.0.1, without persistence; `stop` and `start` keep its port."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        log = open(self.directory / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - the child's
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        process = self.process
        wait_for(
            lambda: ping("127.0.0.1", self.port) or process.poll() is not None,
            f"redis-server on port {self.port}",
        )
        if process.poll() is not None:
            raise AssertionError(
                f"redis-server on port {self.port} exited with {process.returncode}: "
                + (self.directory / f"redis-{self.port}.log").read_text(errors="replace")[-2000:]
            )
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, grace=10)
            self.process = None


class CeleryWorker:
    """``celery -A <module> worker``: ``concurrency`` prefork processes, in a group of its own."""

    def __init__(
        self,
        module: str,
        url: str,
        log: Path,
        *,
        concurrency: int = 2,
        queue: str = "fastapi-boundary-tests",
        name: str = "tests",
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.log = log
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            module,
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{name}-{os.getpid()}@%h",
            "--queues",
            queue,
        ]
        environment = {**os.environ, URL_VARIABLE: url, **(env or {})}
        environment.pop("PYTEST_XDIST_WORKER", None)
        with open(log, "ab") as output:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(lambda: self.ready() or self.process.poll() is not None, "a Celery worker")
        except AssertionError:
            self.stop()
            raise AssertionError(f"the Celery worker did not start:\n{self.output()}") from None
        if self.process.poll() is not None:
            raise AssertionError(f"the Celery worker exited:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def ready(self) -> bool:
        return self.log.exists() and " ready." in self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Cold shutdown (SIGQUIT: no waiting for running tasks), then kill what is left."""
        _stop_group(self.process, signal.SIGQUIT, grace=20)
