"""The ``fastapi-boundary`` command line: audit an app from CI or a terminal.

Exit status: 0 when clean, 1 on violations (including a boundary error
raised while the app was imported), 2 when the app cannot be loaded.
Progress goes to stderr; the report goes to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from .__about__ import __version__
from ._audit.app_check import check_app
from ._audit.render import FORMATS, render
from ._audit.report import AppReport
from ._common.errors import AppLoadError, BoundaryError

__all__ = ["load_app", "main"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_LOAD_ERROR = 0, 1, 2


def load_app(target: str, *, app_dir: str = ".", factory: bool = False) -> Any:
    """Import ``module:attribute`` (as uvicorn does); raise `AppLoadError` on failure."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise AppLoadError(
            f"app must be given as 'module:attribute' (e.g. 'myapp.main:app'); got {target!r}"
        )
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except BoundaryError:
        raise
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise AppLoadError(
                f"could not import module {module_name!r} (from --app-dir {app_dir!r}): {error}. "
                "Fix: check the name, or pass --app-dir with the folder that contains it."
            ) from error
        raise AppLoadError(_import_failure(module_name, error)) from error
    except Exception as error:
        raise AppLoadError(_import_failure(module_name, error)) from error
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as error:
            raise AppLoadError(
                f"module {module_name!r} has no attribute {attribute!r}. "
                "Fix: name the variable that holds the FastAPI app."
            ) from error
    if factory:
        try:
            obj = obj()
        except BoundaryError:
            raise
        except Exception as error:
            raise AppLoadError(
                f"app factory {target!r} raised {type(error).__name__}: {error}"
            ) from error
    if not hasattr(obj, "routes"):
        hint = (
            " Fix: pass --factory if it is a function that builds the app." if callable(obj) else ""
        )
        raise AppLoadError(
            f"{target!r} is a {type(obj).__name__}, not an ASGI app with routes.{hint}"
        )
    return obj


def _import_failure(module_name: str, error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = next(
        (
            f" at {frame.filename}:{frame.lineno}"
            for frame in reversed(frames)
            if "importlib" not in frame.filename
        ),
        "",
    )
    return f"importing {module_name!r} raised {type(error).__name__}: {error}{where}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastapi-boundary",
        description="Audit the sync/async boundaries of a FastAPI app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="print every route's modes and dependency tree; exit 1 on violations",
        description="Import APP ('module:attribute') and audit its routes.",
    )
    check.add_argument(
        "app", metavar="APP", help="the app as module:attribute, e.g. myapp.main:app"
    )
    check.add_argument("--app-dir", default=".", help="folder to import the app from (default: .)")
    check.add_argument(
        "--factory", action="store_true", help="APP is a function that returns the app"
    )
    check.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    print(f"fastapi-boundary: loading {args.app}", file=sys.stderr)
    try:
        app = load_app(args.app, app_dir=args.app_dir, factory=args.factory)
    except AppLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    except BoundaryError as error:
        # An import-time check fired: report it like any violation, in the chosen format.
        print(f"error: importing {args.app} raised {type(error).__name__}", file=sys.stderr)
        if not error.violations:
            print(str(error), file=sys.stderr)
            return EXIT_VIOLATIONS
        report = AppReport(layer_violations=list(error.violations), import_failed=True)
        print(render(report, args.format))
        return EXIT_VIOLATIONS
    print("fastapi-boundary: checking routes", file=sys.stderr)
    report = check_app(app)
    print(render(report, args.format))
    return EXIT_OK if report.ok else EXIT_VIOLATIONS


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
