"""Harness code shared by the benchmark scripts: report layout, statistics text, progress.

The scripts import it as a top-level module (``benchmarks/`` is ``sys.path[0]`` when one is
run as a script, and mypy finds it next to them), so that every report has the same header,
spread notation and verdict lines, and a change to that layout is made once.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Where each script writes its report: the committed reference results live there.
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# The header's last line unless a script says more: it tells a reader how to read the ratios.
SUMMARY = (
    "Figures are ratios against an anchor measured in the same run, interleaved; "
    "medians, with spread."
)


def spread(values: Sequence[float], digits: int = 3) -> str:
    """``min-max`` and, with enough samples, the interquartile range.

    A median alone hides how noisy a run was; every figure is quoted with this next to it.
    """
    low, high = min(values), max(values)
    text = f"min-max {low:.{digits}f}-{high:.{digits}f}"
    if len(values) >= 4:
        q1, _, q3 = statistics.quantiles(values, n=4)
        text += f", IQR {q1:.{digits}f}-{q3:.{digits}f}"
    return text


def verdict(ok: bool) -> str:
    """The word a budget line ends with, so that reports can be grepped for ``FAIL``."""
    return "PASS" if ok else "FAIL"


def rotation(items: Sequence[T], turn: int) -> list[T]:
    """``items`` rotated by ``turn`` places: the order of the sides in repetition ``turn``.

    Rotating (A/B, then B/A, ...) means no side always runs first, so that machine drift
    and warm caches hit every side alike.
    """
    shift = turn % len(items)
    return [*items[shift:], *items[:shift]]


def progress(message: str) -> None:
    """Progress goes to stderr, so that stdout carries nothing but the report."""
    print(message, file=sys.stderr, flush=True)


def progress_count(label: str, done: int, total: int) -> None:
    """``  label: done/total`` on stderr: how far a long section has got."""
    progress(f"  {label}: {done}/{total}")


def version(name: str) -> str:
    """The installed version of the distribution ``name``, or ``not installed``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(
    title: str, packages: Sequence[str], *, versions_note: str = "", summary: str = SUMMARY
) -> list[str]:
    """The report's first lines: what ran, when, where, with which versions, and how.

    Ratios are only comparable between runs on the same machine and versions, so every
    report records them; ``versions_note`` extends the versions line.
    """
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    return [
        title,
        f"date:     {now.isoformat()}",
        f"machine:  {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"versions: {versions}{versions_note}",
        f"command:  {command}",
        summary,
    ]


def argument_parser(
    doc: str | None, formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter
) -> argparse.ArgumentParser:
    """A parser whose description is the first line of the script's docstring."""
    return argparse.ArgumentParser(
        description=doc.splitlines()[0] if doc else None, formatter_class=formatter_class
    )


def report(head: Sequence[str], sections: Sequence[Sequence[str]], passed: bool) -> list[str]:
    """The header, each section and the overall verdict, with a blank line between them."""
    lines = [*head]
    for section in sections:
        lines.extend(["", *section])
    lines.extend(["", f"overall: {verdict(passed)}"])
    return lines


def publish(lines: Sequence[str], results: Path | None) -> None:
    """Print the report and overwrite ``results`` with it (``None``: a partial run, print only).

    The results file is what gets committed, so it is exactly what was printed.
    """
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(text)


# --- uvicorn servers in child processes, for the end-to-end measurements ----------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_uvicorn(
    root: Path, module: str, name: str, env: Mapping[str, str], *, lifespan: str
) -> Server:
    """Serve ``module:app`` from ``root`` on 127.0.0.1 with plain asyncio.

    The loop is pinned (``--loop asyncio``): uvicorn would pick uvloop when it
    is installed, and results must stay comparable across machines.
    """
    port = free_port()
    log = root / f"uvicorn_{name}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--app-dir",
        str(root),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "asyncio",
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        lifespan,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(process, port, log)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
