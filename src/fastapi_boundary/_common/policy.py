"""``strict | warn | off``: how a line of defence reacts to what it finds.

One literal type and one parser for every switch that takes a policy — the
import-time checks (`configure`, ``FASTAPI_BOUNDARY_MODE``, ``install(check=)``),
the guard (``enable_guard``, ``--boundary``), the monitor — so a typo reads the
same wherever it is made.  Pure: the mypy plugin may import it.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = ["POLICIES", "Policy", "is_policy", "policy_problem"]

Policy = Literal["strict", "warn", "off"]
POLICIES: Final[tuple[Policy, ...]] = get_args(Policy)


def is_policy(value: object) -> bool:
    return value in POLICIES


def policy_problem(value: object, source: str, fix: str) -> str | None:
    """The message for a value that is not a policy, or ``None`` when it is one.

    ``source`` names where the value was given (``configure(mode=...)``, an
    environment variable, an ini key); ``fix`` says how to give a good one.
    """
    if is_policy(value):
        return None
    return f"{source} must be one of {', '.join(POLICIES)}; got {value!r}. Fix: {fix}"
