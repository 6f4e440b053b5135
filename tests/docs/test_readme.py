"""The README's example raises exactly the error the README shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT, run_python

README = ROOT / "README.md"


@pytest.mark.slow
def test_readme_example_prints_the_documented_error(tmp_path: Path) -> None:
    text = README.read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    shown = text.split("```text\n", 1)[1].split("```", 1)[0].strip()
    (tmp_path / "app.py").write_text(code)
    result = run_python("-c", "import app", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(shown)
