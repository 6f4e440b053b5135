"""The pytest plugin, run in throw-away pytest sessions (pytester, in a subprocess).

Each session gets a small FastAPI app and tests; we assert on its outcome
and its output: opt-in, strict and warn modes, async tests, TestClient and
httpx requests, the marker, the fixture, exemptions, the baseline workflow
and the stale report.
"""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # each test runs a pytest session in a subprocess

APP = """
import time
from fastapi import FastAPI

app = FastAPI()

@app.get("/items/{item_id}")
async def read_item(item_id: int):
    time.sleep(0.001)
    return {"id": item_id}

@app.get("/fine")
async def fine():
    return {}
"""

TESTS = """
import time
import httpx
import pytest
from fastapi.testclient import TestClient
from app import app

def test_testclient():
    with TestClient(app) as client:
        client.get("/items/1")

@pytest.mark.anyio
async def test_httpx():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/items/2")

@pytest.mark.anyio
async def test_async_body():
    time.sleep(0.001)

def test_sync_body():
    time.sleep(0.001)

def test_fine():
    with TestClient(app) as client:
        assert client.get("/fine").status_code == 200
"""

CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(app=APP, test_app=TESTS, conftest=CONFTEST)
    return pytester


def test_inert_unless_opted_in(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert "fastapi-boundary guard" not in result.stdout.str()


def test_strict_fails_async_tests_and_requests(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=strict")
    result.assert_outcomes(passed=2, failed=3)
    output = result.stdout.str()
    assert "FAILED test_app.py::test_testclient - fastapi_boundary.BlockingCallError" in output
    assert "FAILED test_app.py::test_httpx" in output
    assert "FAILED test_app.py::test_async_body" in output
    assert "blocking call time.sleep (sleep) on the event loop thread at app.py:8" in output
    assert "while serving GET /items/{item_id}" in output
    assert "Fix: use `await anyio.sleep(...)`" in output
    assert "test_app.py:19" in output  # the async test body's own line
    assert "fastapi-boundary guard" in output  # the summary


def test_ini_key_opts_in_and_warn_mode_passes(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nboundary = warn\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    output = result.stdout.str()
    assert "blocking work on the event loop (warn): 2 distinct" in output
    assert (
        "app.read_item (app.py:6) calls time.sleep (sleep) at app.py:8 x2; "
        "routes: GET /items/{item_id}"
    ) in output
    assert (
        "test_app.test_async_body (test_app.py:17) calls time.sleep (sleep) at test_app.py:19 x1"
    ) in output


def test_marker_allows_and_stale_marker_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        conftest=CONFTEST,
        test_marker="""
        import time
        import pytest

        @pytest.mark.anyio
        @pytest.mark.boundary_allow("time.sleep", reason="the legacy client sleeps")
        async def test_allowed():
            time.sleep(0.001)

        @pytest.mark.anyio
        @pytest.mark.boundary_allow("os.stat", reason="never happens")
        async def test_stale():
            pass
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=strict")
    result.assert_outcomes(passed=2, errors=1)
    output = result.stdout.str()
    assert "boundary_allow: os.stat never blocked in test_marker.py::test_stale" in output
    assert "Fix: remove it from the marker" in output


def test_marker_needs_a_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reason="""
        import pytest

        @pytest.mark.boundary_allow("time.sleep")
        def test_no_reason():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=strict")
    assert "needs a reason" in result.stderr.str() + result.stdout.str()


def test_fixture_opts_in_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        app=APP,
        test_fixture="""
        from fastapi.testclient import TestClient
        from app import app
        from fastapi_boundary._common.errors import BlockingCallError
        import pytest

        def test_caught(boundary_guard):
            with TestClient(app) as client:
                with pytest.raises(BlockingCallError) as caught:
                    client.get("/items/7")
            assert "GET /items/{item_id}" in str(caught.value)
            assert boundary_guard.names() == ["time.sleep"]

        def test_guard_off_again():
            with TestClient(app) as client:
                assert client.get("/items/7").status_code == 200
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_swallowed_error_still_fails_in_strict_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_swallow="""
        import time
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        app = FastAPI()

        @app.get("/")
        async def swallow():
            try:
                time.sleep(0.001)
            except Exception:
                return {"hidden": True}

        def test_swallowed():
            with TestClient(app) as client:
                assert client.get("/").json() == {"hidden": True}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=strict")
    result.assert_outcomes(failed=1)
    assert "blocking call time.sleep" in result.stdout.str()


def test_baseline_workflow(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nboundary = strict\nboundary_baseline = boundary-baseline.json\n")
    written = project.runpytest_subprocess("-p", "no:cacheprovider", "--update-baseline")
    written.assert_outcomes(passed=5)
    baseline = json.loads((project.path / "boundary-baseline.json").read_text())
    assert baseline["version"] == 1
    rows = sorted((row["name"], row["function"]) for row in baseline["exemptions"])
    assert rows == [("time.sleep", "app.read_item"), ("time.sleep", "test_app.test_async_body")]
    assert "baseline written" in written.stdout.str()

    # the whole suite now passes in strict mode with the baseline
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=5)

    # fixing the code makes the baseline entry stale: the run fails until it is removed
    project.makepyfile(app=APP.replace("time.sleep(0.001)", "pass"), test_app=TESTS)
    project.makepyfile(
        test_app=TESTS.replace("    time.sleep(0.001)\n", "    pass\n"),
    )
    stale = project.runpytest_subprocess("-p", "no:cacheprovider")
    stale.assert_outcomes(passed=5)
    assert stale.ret == pytest.ExitCode.TESTS_FAILED
    output = stale.stdout.str()
    assert "stale exemptions (never fired" in output
    assert "time.sleep from app.read_item (baseline boundary-baseline.json" in output

    rewritten = project.runpytest_subprocess("-p", "no:cacheprovider", "--update-baseline")
    rewritten.assert_outcomes(passed=5)
    assert json.loads((project.path / "boundary-baseline.json").read_text())["exemptions"] == []


def test_exemptions_and_catalogue_additions_from_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\n"
        "boundary = strict\n"
        "boundary_exempt =\n"
        "    time.sleep = the vendor SDK sleeps between retries, #42\n"
        "boundary_blocking =\n"
        "    helpers.fetch = net: use helpers.afetch\n"
    )
    pytester.makepyfile(
        conftest=CONFTEST,
        helpers="""
        def fetch():
            return 1
        """,
        test_ini="""
        import time
        import pytest
        import helpers

        @pytest.mark.anyio
        async def test_exempt():
            time.sleep(0.001)

        @pytest.mark.anyio
        async def test_added():
            helpers.fetch()
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "blocking call helpers.fetch (net)" in output
    assert "Fix: use helpers.afetch" in output


def test_partial_run_does_not_judge_stale_exemptions(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nboundary = strict\nboundary_exempt =\n    os.stat = legacy\n")
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    whole = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert whole.ret == pytest.ExitCode.TESTS_FAILED
    assert "os.stat (ini boundary_exempt: legacy)" in whole.stdout.str()
    partial = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_one.py")
    assert partial.ret == pytest.ExitCode.OK


def test_strict_covers_trio_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        conftest="""
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "trio"
        """,
        test_trio="""
        import time
        import anyio
        import pytest

        @pytest.mark.anyio
        async def test_blocks():
            time.sleep(0.001)

        @pytest.mark.anyio
        async def test_awaits():
            await anyio.sleep(0.001)
            await anyio.to_thread.run_sync(time.sleep, 0.001)
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=strict")
    result.assert_outcomes(passed=1, failed=1)
    assert "blocking call time.sleep (sleep) on the event loop thread at test_trio.py:7" in (
        result.stdout.str()
    )


SHARED = """
import time
from fastapi import FastAPI

app = FastAPI()

def load(key: int) -> int:
    time.sleep(0.001)  # a shared repository line
    return key

@app.get("/a/{key}")
async def first(key: int):
    return load(key)

@app.get("/b/{key}")
async def first_again(key: int):
    return await first(key)

@app.get("/c/{key}")
async def second(key: int):
    return load(key)

@app.get("/d/{key}")
async def twice(key: int):
    time.sleep(0.001)
    with open(__file__) as source:
        source.read()
    return key
"""

SHARED_TESTS = """
from fastapi.testclient import TestClient
from app import app

def test_first():
    with TestClient(app) as client:
        client.get("/a/1")
        client.get("/b/1")

def test_second():
    with TestClient(app) as client:
        client.get("/c/1")

def test_twice():
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/a/1")
        client.get("/d/1")
"""


def test_the_summary_names_each_fake_async_function_with_its_routes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(app=SHARED, test_app=SHARED_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=warn")
    result.assert_outcomes(passed=3)
    output = result.stdout.str()
    assert "blocking work on the event loop (warn): 4 distinct" in output
    assert (
        "app.first (app.py:10) calls time.sleep (sleep) at app.py:7 x3; "
        "routes: GET /a/{key}, GET /b/{key}"
    ) in output
    assert (
        "app.second (app.py:18) calls time.sleep (sleep) at app.py:7 x1; routes: GET /c/{key}"
    ) in output
    assert "app.twice (app.py:22) calls time.sleep (sleep) at app.py:24 x1" in output
    assert "app.twice (app.py:22) calls builtins.open (file) at app.py:25 x1" in output


def test_strict_lists_every_blocking_call_of_the_failed_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=SHARED, test_app=SHARED_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--boundary=strict", "-k", "twice"
    )
    result.assert_outcomes(failed=1, deselected=2)
    output = result.stdout.str()
    # the app turned each error into a 500: the test fails after, naming every one
    assert "blocking call time.sleep (sleep) on the event loop thread at app.py:7" in output
    assert "and 1 more in this test:" in output
    assert "- blocking call time.sleep (sleep) on the event loop thread at app.py:24" in output


def test_a_baseline_entry_never_covers_another_function(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nboundary = strict\nboundary_baseline = boundary-baseline.json\n")
    only_first = SHARED_TESTS.replace('client.get("/c/1")', "pass")
    pytester.makepyfile(app=SHARED, test_app=only_first)
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--update-baseline", "-k", "not twice"
    ).assert_outcomes(passed=2, deselected=1)
    # the same call, reached from another async function, is new: it fails
    pytester.makepyfile(test_app=SHARED_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "not twice")
    result.assert_outcomes(passed=1, failed=1)
    assert "FAILED test_app.py::test_second" in result.stdout.str()


HOSTILE_CONFTEST = """
import pytest


class LibraryError(Exception):
    pass


class Raising:  # a class attribute whose descriptor raises the library's own error
    def __get__(self, obj, owner):
        raise LibraryError("numpy is not installed")


class Lazy:  # an attribute read imports the module it stands for
    def __getattr__(self, name):
        import tabnanny

        return getattr(tabnanny, name)


class Host:
    raising = Raising()
    lazy = Lazy()


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


def test_warn_starts_beside_libraries_whose_attributes_raise(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(conftest=HOSTILE_CONFTEST, app=APP, test_app=TESTS)
    pytester.makepyfile(
        test_imports="""
        import sys

        def test_nothing_was_imported():
            assert "tabnanny" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--boundary=warn")
    result.assert_outcomes(passed=6)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
