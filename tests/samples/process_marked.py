"""``@cpu_bound`` functions for the process pool tests (importing this imports the package)."""

from __future__ import annotations

import os

from fastapi_boundary._offload.process_targets import cpu_bound


@cpu_bound
def scaled_sum(a: int, b: int, *, scale: int = 1) -> tuple[int, int]:
    """Return the process id it ran in, and a computed value."""
    return os.getpid(), (a + b) * scale


class Holder:
    @staticmethod
    @cpu_bound
    def static_double(x: int) -> int:
        return 2 * x
