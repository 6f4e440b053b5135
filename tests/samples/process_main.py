"""Run as ``python -m tests.samples.process_main``: a ``@cpu_bound`` function in ``__main__``.

Prints the parent's pid and the worker's, then exits without shutting the
pool down: the interpreter must exit promptly and stop its workers.
"""

from __future__ import annotations

import os

import anyio

from fastapi_boundary._offload.process_pool import run_cpu
from fastapi_boundary._offload.process_targets import cpu_bound


@cpu_bound
def where(offset: int) -> int:
    return os.getpid() + offset


async def main() -> None:
    worker = await run_cpu(where, 0)
    print(os.getpid(), worker, flush=True)


if __name__ == "__main__":
    anyio.run(main)
