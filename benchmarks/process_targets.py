"""Functions the process benchmarks send to workers (a module, so every pool can import them)."""

from __future__ import annotations


def noop() -> None:
    return None


def crunch(iterations: int) -> int:
    """A fixed amount of pure-Python CPU work (the benchmark sizes it to about 1 ms)."""
    total = 0
    for i in range(iterations):
        total += i * i
    return total
