"""The worker's side of a call, driven in a process of its own that exits normally."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import run_python

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc: Linux only"
)


@pytest.mark.slow
def test_every_kind_of_answer(capfd: pytest.CaptureFixture[str]) -> None:
    result = run_python("-m", "tests.samples.trampoline_as_worker")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ok, raised, unpicklable, result_fails, missing, garbage, changed, same, lowered, shell = lines
    assert ok.startswith("0 (") and ok.endswith(", 5) True ''")
    assert raised == "1 'ValueError: bad n: 4' True ''"
    assert unpicklable.startswith("2 ('exception', ")
    assert "process_targets.NeedsTwoArguments: 1 and 2 (TypeError:" in unpicklable
    assert result_fails.startswith("2 ('result', \"_thread.lock (TypeError: cannot pickle")
    assert missing.startswith("2 ('target', \"AttributeError:")
    assert garbage.startswith("2 ('arguments', ") and "UnpicklingError: invalid load key" in garbage
    assert changed.startswith("0 ") and changed.endswith("True ''")
    assert same == "True"
    assert lowered.startswith("0 ") and "resource limit" in lowered  # cannot be put back
    assert shell.startswith("0 (") and "'/dev/null'" in shell
    assert "quiet" not in result.stdout  # the shell's output went to stderr: the parent's
    assert "quiet" in capfd.readouterr().err
