"""The mypy plugin flags Celery's blocking calls inside ``async def`` (a real mypy run).

Celery ships no types; with celery-types installed (the test dependency group)
mypy knows ``task.delay(...)`` is ``celery.app.task.Task.delay``, and the
catalogue's entries apply as to any other blocking call.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CASE = textwrap.dedent(
    """\
    from celery import Celery
    from celery.result import AsyncResult

    app = Celery("shop")


    @app.task
    def send_invoice(order_id: int) -> str:
        return str(order_id)


    async def checkout(order_id: int) -> str:
        send_invoice.delay(order_id)
        result = send_invoice.apply_async((order_id,))
        AsyncResult("an-id", app=app).get()
        return result.get(timeout=10)


    def checkout_sync(order_id: int) -> str:
        return send_invoice.delay(order_id).get(timeout=10)
    """
)


def test_delay_apply_async_and_get_in_async_def_are_flagged_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(CASE)
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nplugins = fastapi_boundary.mypy\nshow_error_codes = true\npretty = false\n"
    )
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(tmp_path / "mypy.ini"),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(tmp_path / "shop.py"),
        ]
    )
    errors = re.findall(r"shop\.py:(\d+): error: (.*)  \[([\w-]+)\]", stdout)
    lines = CASE.splitlines()
    at = {int(line): (message, code) for line, message, code in errors}
    expected = {
        lines.index("    send_invoice.delay(order_id)") + 1: "celery.app.task.Task.delay",
        lines.index("    result = send_invoice.apply_async((order_id,))") + 1: (
            "celery.app.task.Task.apply_async"
        ),
        lines.index('    AsyncResult("an-id", app=app).get()') + 1: "celery.result.AsyncResult.get",
        lines.index("    return result.get(timeout=10)") + 1: "celery.result.AsyncResult.get",
    }
    assert set(at) == set(expected), stdout + stderr  # nothing in checkout_sync (a plain def)
    for line, name in expected.items():
        message, code = at[line]
        assert code == "boundary-blocking-call"
        assert f'"checkout" (async) calls blocking "{name}' in message
        assert "await run_queued(func, ...)" in message
