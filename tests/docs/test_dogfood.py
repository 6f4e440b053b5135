"""The guard on our own example apps: correct code must not cry wolf.

The example bookshops (sync SQLAlchemy + SQLite, async SQLAlchemy +
aiosqlite, passwords in worker processes, receipts through a limited sync
service) and the starvation tests run under ``pytest --boundary=strict`` in a
separate pytest process: any report on them is a false alarm or a real
mistake, and either fails this test.  It caught two bugs in the guard (a
wrapper at the bottom of SQLAlchemy's greenlet had no caller frame; the
async engine's internal sync calls were reported) and one real mistake in a
test (a scrypt hash computed on the event loop).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_apps_pass_under_the_strict_guard() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--boundary=strict",
            "tests/docs/test_examples.py",
            "tests/offload/test_starvation.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "blocking work on the event loop" not in run.stdout, run.stdout[-6000:]
