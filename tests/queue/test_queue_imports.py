"""Celery is optional: the package, its CLI and its audit never import Celery, kombu or redis."""

from __future__ import annotations

import pytest

from tests.helpers import run_python

pytestmark = pytest.mark.slow

QUEUE_MODULES = "('celery', 'kombu', 'redis', 'fastapi_boundary._queue')"


def test_importing_the_package_and_using_the_core_imports_no_queue() -> None:
    code = (
        "import sys, fastapi_boundary, fastapi_boundary.pytest_plugin, fastapi_boundary.mypy\n"
        "from fastapi import FastAPI\n"
        "from fastapi_boundary import check_app, install, run_cpu, cpu_bound, run_blocking\n"
        "app = install(FastAPI())\n"
        "check_app(app)\n"
        f"print(sorted(m for m in {QUEUE_MODULES} if m in sys.modules))"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_cli_audit_imports_no_queue() -> None:
    code = (
        "import sys\n"
        "from fastapi_boundary.cli import main\n"
        "status = main(['check', 'examples.sync_bookshop.main:app'])\n"
        f"print(sorted(m for m in {QUEUE_MODULES} if m in sys.modules), file=sys.stderr)"
    )
    result = run_python("-c", code)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_the_queue_names_import_celery_when_first_used() -> None:
    code = (
        "import sys, fastapi_boundary\n"
        "fastapi_boundary.run_queued\n"
        "print('celery' in sys.modules, 'fastapi_boundary._queue.calls' in sys.modules)"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True"
