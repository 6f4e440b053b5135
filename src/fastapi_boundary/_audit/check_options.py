"""What ``fastapi-boundary check`` takes from ``[tool.fastapi-boundary]``, and its adoption options.

An option given on the command line wins; else the table's key; else the
default.  So a project with ``app = "myapp.main:app"`` in its table runs a
bare ``fastapi-boundary check``.  ``--baseline FILE`` (or ``baseline``)
lets known findings pass; ``--update-baseline`` writes the current findings to
it; ``--policy warn`` (or ``policy``) reports without failing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .._common.config import BoundaryConfig, load_config
from .._common.errors import BoundaryError
from .._common.policy import POLICIES, Policy
from .._common.sites import relative_path
from .adoption import update_baseline, verdict
from .report import AppReport

__all__ = ["CheckSettings", "add_options", "finish", "settings"]


def add_options(check: argparse.ArgumentParser) -> None:
    """``--baseline``, ``--update-baseline`` and ``--policy``."""
    check.add_argument(
        "--baseline",
        metavar="FILE",
        default=None,
        help="known findings pass, new ones fail, fixed ones are stale and fail "
        "(default: baseline in [tool.fastapi-boundary])",
    )
    check.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the current findings to the baseline file, and exit 0",
    )
    check.add_argument(
        "--policy",
        choices=POLICIES,
        default=None,
        help="strict: exit 1 on findings (default); warn or off: report them, exit 0 "
        "(default: policy in [tool.fastapi-boundary])",
    )


@dataclass(frozen=True)
class CheckSettings:
    """The options of one ``check`` run, with the table's values filled in."""

    app: str
    app_dir: str
    factory: bool
    format: str
    policy: Policy
    config: BoundaryConfig
    update: Path | None = None


def settings(args: argparse.Namespace, formats: Sequence[str]) -> CheckSettings:
    """Merge the command line with the table; a missing app or a bad value is a `BoundaryError`."""
    config = load_config()
    app = args.app or config.app
    if not app:
        where = f" in {config.source}" if config.path is not None else ""
        raise BoundaryError(
            f"no app to check: pass it as module:attribute, or set app{where}. "
            'Fix: fastapi-boundary check myapp.main:app, or app = "myapp.main:app" '
            "under [tool.fastapi-boundary] in pyproject.toml."
        )
    fmt = args.format or config.format or "table"
    if fmt not in formats:
        raise BoundaryError(
            f"{config.source}: format {fmt!r} is not one of {', '.join(formats)}. "
            f'Fix: format = "{formats[0]}".'
        )
    if args.app_dir is not None:
        app_dir = args.app_dir
    elif config.app_dir is not None:
        app_dir = relative_path(str(config.app_dir))
    else:
        app_dir = "."
    baseline = Path(args.baseline).resolve() if args.baseline else config.baseline
    update = None
    if args.update_baseline:
        if baseline is None:
            raise BoundaryError(
                "--update-baseline needs a file to write. Fix: pass --baseline FILE, or set "
                'baseline = "boundary-baseline.json" under [tool.fastapi-boundary].'
            )
        update, baseline = baseline, None  # every finding is written, the known ones too
    return CheckSettings(
        app=app,
        app_dir=app_dir,
        factory=bool(args.factory or (config.factory and not args.app)),
        format=fmt,
        policy=args.policy or config.policy or "strict",
        config=replace(config, baseline=baseline),
        update=update,
    )


def finish(report: AppReport, chosen: CheckSettings) -> tuple[int, list[str]]:
    """The exit status, and what to say on stderr: the baseline written, or the policy."""
    if chosen.update is not None:
        entries = update_baseline(report, chosen.update)
        count = f"{len(entries)} finding{'s' if len(entries) != 1 else ''}"
        return 0, [f"baseline written: {relative_path(str(chosen.update))} ({count})"]
    status = verdict(report, "strict")
    if status and chosen.policy != "strict":
        return 0, [f"policy {chosen.policy}: the findings are reported, not failed"]
    return status, []
