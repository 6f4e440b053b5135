"""No "right" example of the docs is reported by the boundary mypy plugin.

A page's right example that blocks the event loop would teach the mistake the page warns
about; the plugin catches that statically, so each ``docs_src/**/*_right.py`` is checked here
(the wrong ones are checked for their error by the pages' own tests).  Only the plugin's
codes count: old pins of third-party stubs (httpx 0.26 against Starlette 0.27) disagree on
types that have nothing to do with the boundary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

from tests.helpers import ROOT

RIGHT_EXAMPLES = sorted((ROOT / "docs_src").rglob("*_right.py"))


@pytest.mark.slow
def test_the_plugin_reports_nothing_in_the_right_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(RIGHT_EXAMPLES) >= 20  # the examples moved: this test must not check nothing
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nplugins = fastapi_boundary.mypy\nstrict = True\n")
    monkeypatch.chdir(ROOT)  # the examples import each other as the docs_src package
    stdout, stderr, status = api.run(
        ["--config-file", str(config), "--cache-dir", str(tmp_path / "cache")]
        + [str(path.relative_to(ROOT)) for path in RIGHT_EXAMPLES]
    )
    assert status in (0, 1), stdout + stderr  # 2: mypy itself failed
    reported = [line for line in stdout.splitlines() if "[boundary-" in line]
    assert not reported, "\n".join(reported)
