"""Run as ``python -m tests.samples.trampoline_as_worker``: the trampoline driven as a worker would.

anyio kills its workers at the end of their event loop, so what runs inside them
leaves no coverage data; this process plays a worker's part and exits normally.
It prints one line per request: the status, the answer's body unpickled, and
what could not be put back.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile

from fastapi_boundary._offload import process_trampoline as trampoline


def request(name: str, *args: object, module: str = "tests.samples.process_targets") -> bytes:
    return pickle.dumps((module, name, args, {}))


def show(answer: trampoline.Answer) -> None:
    status, body, pid, tainted = answer
    value = pickle.loads(body)
    if status == trampoline.RAISED:
        value = f"{type(value[0]).__name__}: {value[0]}"
    elif status == trampoline.FAILED:
        value = value[:2]
    print(status, repr(value), pid == os.getpid(), repr(tainted), flush=True)


def main() -> None:
    parent = os.getppid()
    folder = tempfile.mkdtemp()
    show(trampoline.call(parent, 30.0, request("scaled_sum", 2, 3)))
    show(trampoline.call(parent, None, request("raises_value_error", 4)))
    show(trampoline.call(parent, None, request("raises_unpicklable")))
    show(trampoline.call(parent, None, request("returns_lock")))
    show(trampoline.call(parent, None, request("missing_function")))
    show(trampoline.call(parent, None, b"not a pickle"))
    before = (sys.path[:], os.getcwd())
    show(trampoline.call(parent, None, request("change_state", "/nowhere", folder, 64)))
    print(before == (sys.path[:], os.getcwd()), flush=True)
    show(trampoline.call(parent, None, request("lower_hard_limit", 100)))
    show(trampoline.call(parent, None, request("shell_out", "quiet")))


if __name__ == "__main__":
    main()
