"""The pytest plugin reads ``[tool.fastapi-boundary]``: the guard table gives its defaults.

Throw-away pytest sessions (pytester, in a subprocess), as in ``test_pytest_plugin``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # each test runs a pytest session in a subprocess

TESTS = """
import time

import pytest


@pytest.mark.anyio
async def test_sleeps():
    time.sleep(0.001)


@pytest.mark.anyio
async def test_reads(tmp_path):
    (tmp_path / "x").write_text("x")
"""

CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


def project(pytester: pytest.Pytester, table: str, ini: str = "") -> pytest.Pytester:
    pytester.makepyfile(test_guarded=TESTS, conftest=CONFTEST)
    pytester.makefile(".toml", pyproject=f"{ini}[tool.fastapi-boundary.guard]\n{table}")
    return pytester


def test_the_table_turns_the_guard_on_with_its_exemptions(pytester: pytest.Pytester) -> None:
    project(pytester, 'mode = "strict"\nexempt = { "time.sleep" = "legacy throttle, #77" }\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*BlockingCallError: blocking call pathlib.Path.write_text*"])


def test_an_option_or_ini_key_wins_over_the_table(pytester: pytest.Pytester) -> None:
    project(pytester, 'mode = "strict"\n', ini='[tool.pytest.ini_options]\nboundary = "off"\n\n')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=warn")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*blocking work on the event loop (warn): 2 distinct*"])


def test_a_mistake_in_the_table_stops_the_run(pytester: pytest.Pytester) -> None:
    project(pytester, 'mode = "strict"\nthreshhold = 0.1\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*fastapi-boundary: pyproject.toml: unknown key 'threshhold' in "
            "[[]tool.fastapi-boundary.guard[]]. Did you mean 'threshold'?*"
        ]
    )
