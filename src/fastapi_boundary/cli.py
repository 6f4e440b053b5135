"""The ``fastapi-boundary`` command line: audit an app from CI or a terminal, or advise on it.

``check`` audits; ``advise`` recommends each route's mode from the guide's
decision matrix (and, with ``--to``, plans a feature's migration); it exits 0
whatever it recommends.

Exit status: 0 when clean, 1 on findings (including a boundary error raised
while the app was imported), 2 when the app cannot be loaded, is not an app,
or has no routes.  Progress and errors go to stderr; the report goes to
stdout, and nothing else does: while the app is imported and audited,
stdout (the file descriptor too) is redirected to stderr, so an app that
prints or logs to stdout at import cannot break a JSON or SARIF report.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import site
import sys
import sysconfig
import traceback
from collections.abc import Iterator, Sequence
from typing import Any, TypeGuard

from starlette.applications import Starlette
from starlette.routing import Router

from .__about__ import __version__
from ._audit import check_options
from ._audit.app_check import check_app
from ._audit.render import FORMATS, render, render_error
from ._audit.report import AppReport
from ._common.errors import AppLoadError, BoundaryError
from ._common.modes import Mode
from ._common.sites import Site, relative_path

__all__ = ["load_app", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_LOAD_ERROR = 0, 1, 2
EXIT_VIOLATIONS = EXIT_FINDINGS  # the former name
ADVISE_FORMATS = ("table", "json")

_APP_TYPES = "a FastAPI or Starlette app or an APIRouter"


class _LoadError(AppLoadError):
    """An `AppLoadError` that knows the line of the user's code it points at."""

    def __init__(self, message: str, site: Site | None = None) -> None:
        super().__init__(message)
        self.site = site


def _library_dirs() -> tuple[str, ...]:
    """Folders whose frames are not the user's code: the stdlib, site-packages, this package."""
    paths = {os.path.dirname(os.path.abspath(__file__))}
    installed = sysconfig.get_paths()
    paths.update(installed.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib"))
    with contextlib.suppress(Exception):
        paths.update(site.getsitepackages())
    with contextlib.suppress(Exception):
        paths.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.abspath(path), "") for path in paths if path)


def _package_dirs(module_name: str | None) -> tuple[str, ...]:
    """The folder of the app's own top-level package, even when it is installed."""
    if not module_name:
        return ()
    try:
        spec = importlib.util.find_spec(module_name.partition(".")[0])
    except Exception:
        return ()
    if spec is None:
        return ()
    if spec.submodule_search_locations:
        folders = list(spec.submodule_search_locations)
        return tuple(os.path.join(os.path.abspath(folder), "") for folder in folders)
    return (os.path.abspath(spec.origin),) if spec.origin else ()


def _user_frame(error: BaseException, module_name: str | None = None) -> Site | None:
    """The deepest frame of the traceback in the user's code; else the deepest frame.

    The user's code is what is neither the standard library, nor site-packages,
    nor this package, plus the app's own package wherever it is installed.
    """
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<")  # <frozen importlib._bootstrap>, <string>
    ]
    if not frames:
        return None
    library, own = _library_dirs(), _package_dirs(module_name)

    def is_users(filename: str) -> bool:
        path = os.path.abspath(filename)
        return path.startswith(own) or not path.startswith(library)

    chosen = next((frame for frame in reversed(frames) if is_users(frame.filename)), frames[-1])
    return Site(relative_path(chosen.filename), chosen.lineno or 0)


def _import_failure(module_name: str, error: BaseException) -> _LoadError:
    filename = error.filename if isinstance(error, SyntaxError) else None
    if isinstance(error, SyntaxError) and filename and not filename.startswith("<"):
        where: Site | None = Site(relative_path(filename), error.lineno or 0)
        detail = f"{type(error).__name__}: {error.msg}"
    else:
        where = _user_frame(error, module_name)
        detail = f"{type(error).__name__}: {error}"
    at = f" at {where}" if where is not None else ""
    return _LoadError(f"importing {module_name!r} raised {detail}{at}", where)


def _stopped(what: str, error: SystemExit | KeyboardInterrupt, module_name: str) -> _LoadError:
    """``sys.exit()`` or Ctrl-C while the app was imported or built: a load error, said so."""
    where = _user_frame(error, module_name)
    at = f" at {where}" if where is not None else ""
    if isinstance(error, KeyboardInterrupt):
        return _LoadError(f"{what} was interrupted (KeyboardInterrupt){at}", where)
    code = error.code
    status = 0 if code is None else code if isinstance(code, int) else 1
    return _LoadError(
        f"{what} called sys.exit({code!r}) (exit status {status}){at}. Fix: do not exit while "
        'the module is imported; put command-line code under `if __name__ == "__main__":`',
        where,
    )


def _is_app(obj: object) -> TypeGuard[Starlette | Router]:
    return isinstance(obj, (Starlette, Router))


def _wrapped_app_path(obj: object) -> str | None:
    """``.app.app`` when ``obj`` is a middleware wrapping an app (``.app`` attributes)."""
    path = ""
    for _ in range(10):
        inner = getattr(obj, "app", None)
        if inner is None:
            return None
        path += ".app"
        if _is_app(inner):
            return path
        obj = inner
    return None


def _not_an_app(target: str, obj: object, *, factory: bool) -> _LoadError:
    kind = type(obj).__name__
    if factory:
        return _LoadError(
            f"app factory {target!r} returned a {kind}, not {_APP_TYPES}. "
            "Fix: return the app from the factory."
        )
    wrapped = _wrapped_app_path(obj)
    if wrapped is not None:
        fix = f"it wraps an app: pass '{target}{wrapped}'."
    elif callable(obj):
        fix = "pass --factory if it is a function that builds the app."
    else:
        fix = "name the variable that holds the FastAPI app (or router)."
    return _LoadError(f"{target!r} is a {kind}, not {_APP_TYPES}. Fix: {fix}")


def load_app(target: str, *, app_dir: str = ".", factory: bool = False) -> Starlette | Router:
    """Import ``module:attribute`` (as uvicorn does); raise `AppLoadError` on failure.

    The object must be a ``FastAPI`` or Starlette app or an ``APIRouter``
    (any Starlette ``Router``), or with ``factory`` a callable returning one.
    """
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
        raise _import_failure(module_name, error) from error
    except Exception as error:
        raise _import_failure(module_name, error) from error
    except (SystemExit, KeyboardInterrupt) as error:
        raise _stopped(f"importing {module_name!r}", error, module_name) from error
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
        if not callable(obj):
            raise AppLoadError(
                f"{target!r} is a {type(obj).__name__}, not a function: "
                "pass --factory only for a function that builds the app."
            )
        try:
            obj = obj()
        except BoundaryError:
            raise
        except Exception as error:
            where = _user_frame(error, module_name)
            at = f" at {where}" if where is not None else ""
            raise _LoadError(
                f"app factory {target!r} raised {type(error).__name__}: {error}{at}", where
            ) from error
        except (SystemExit, KeyboardInterrupt) as error:
            raise _stopped(f"app factory {target!r}", error, module_name) from error
    if not _is_app(obj):
        raise _not_an_app(target, obj, factory=factory)
    return obj


def _no_routes(target: str, report: AppReport) -> str:
    mounts = ""
    if report.mounts:
        listed = "; ".join(f"{mount.path}: {mount.note}" for mount in report.mounts)
        mounts = f" (mounted apps not inspected: {listed})"
    return (
        f"{target} has no routes to audit{mounts}. Fix: name the app your server runs, and "
        "make sure its routers are included (app.include_router) when the module is imported"
        " or, with --factory, when the factory runs."
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastapi-boundary",
        description="Audit the sync/async boundaries of a FastAPI app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="report each boundary mistake once, with the routes it affects; exit 1 on findings",
        description="Import APP ('module:attribute') and audit its routes.",
    )
    check.add_argument(
        "app",
        metavar="APP",
        nargs="?",
        help="the app as module:attribute, e.g. myapp.main:app "
        "(default: app in [tool.fastapi-boundary] of pyproject.toml)",
    )
    check.add_argument("--app-dir", default=None, help="folder to import the app from (default: .)")
    check.add_argument(
        "--factory", action="store_true", help="APP is a function that returns the app"
    )
    check.add_argument(
        "--format", choices=FORMATS, default=None, help="output format (default: table)"
    )
    check_options.add_options(check)
    detail = check.add_mutually_exclusive_group()
    detail.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only the findings: no route list, no progress lines",
    )
    detail.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="every route a finding affects, and each route's hops and dependency tree",
    )
    _advise_parser(commands)
    return parser


def _advise_parser(commands: Any) -> None:
    advise = commands.add_parser(
        "advise",
        help="recommend sync or async per route, router and app (the guide's decision matrix)",
        description="Import APP and recommend each route's mode, with the reason, the evidence "
        "and how sure it is; --to plans a feature's migration.",
    )
    advise.add_argument("app", metavar="APP", nargs="?", help="the app as module:attribute")
    advise.add_argument("--app-dir", default=None, help="folder to import the app from")
    advise.add_argument(
        "--factory", action="store_true", help="APP is a function that returns the app"
    )
    advise.add_argument(
        "--format", choices=ADVISE_FORMATS, default=None, help="output format (default: table)"
    )
    advise.add_argument(
        "--profile",
        metavar="FILE",
        default=None,
        help="the profile the monitor wrote (MonitorConfig(profile=FILE)): measured shares",
    )
    advise.add_argument(
        "--to",
        nargs=2,
        metavar=("MODE", "TARGET"),
        default=None,
        help="plan the migration of TARGET (a router as module:variable, a route as "
        "'GET /path', or an endpoint) to MODE (sync or async)",
    )
    advise.add_argument(
        "-v", "--verbose", action="store_true", help="every piece of evidence for each route"
    )


def _flush_c_stdio() -> None:
    """Flush C-level stdio buffers (an extension's printf) before stdout is put back."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to stdout to stderr: Python's ``sys.stdout`` and fd 1.

    The file descriptor is redirected too (``os.dup2``), so C extensions and
    subprocesses started meanwhile cannot write to the real stdout either.
    """
    saved_stdout = sys.stdout
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved_fd: int | None = None
    with contextlib.suppress(OSError):
        saved_fd = os.dup(1)
        try:
            os.dup2(2, 1)
        except OSError:
            os.close(saved_fd)
            saved_fd = None
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        _flush_c_stdio()
        sys.stdout = saved_stdout
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def _audit(args: argparse.Namespace) -> tuple[int, str | None]:
    """Load and audit the app: the exit status and the document for stdout."""

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"fastapi-boundary: {message}", file=sys.stderr)

    try:  # the command line, with [tool.fastapi-boundary] filling in what it does not say
        chosen = check_options.settings(args, FORMATS)
    except BoundaryError as error:
        print(f"error: {error}", file=sys.stderr)
        fmt = args.format or "table"
        return EXIT_LOAD_ERROR, render_error(fmt, str(error), None, EXIT_LOAD_ERROR)
    args.app, args.app_dir, args.factory = chosen.app, chosen.app_dir, chosen.factory
    args.format = chosen.format
    progress(f"loading {args.app}")
    try:
        app = load_app(args.app, app_dir=args.app_dir, factory=args.factory)
    except AppLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        site = error.site if isinstance(error, _LoadError) else None
        return EXIT_LOAD_ERROR, render_error(args.format, str(error), site, EXIT_LOAD_ERROR)
    except BoundaryError as error:
        # An import-time check fired: report it like any finding, in the chosen format.
        print(f"error: importing {args.app} raised {type(error).__name__}", file=sys.stderr)
        if not error.violations:
            print(str(error), file=sys.stderr)
            message = f"importing {args.app} raised {type(error).__name__}: {error}"
            return EXIT_FINDINGS, render_error(args.format, message, None, EXIT_FINDINGS)
        report = AppReport(layer_violations=list(error.violations), import_failed=True)
        return EXIT_FINDINGS, render(report, args.format, quiet=args.quiet, verbose=args.verbose)
    progress("checking routes")
    try:
        report = check_app(app, config=chosen.config)
    except BoundaryError as error:  # a baseline that cannot be read
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(args.format, str(error), None, EXIT_LOAD_ERROR)
    if not report.routes:
        message = _no_routes(args.app, report)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(args.format, message, None, EXIT_LOAD_ERROR)
    text = render(report, args.format, quiet=args.quiet, verbose=args.verbose)
    status, said = check_options.finish(report, chosen)  # the baseline written, the policy
    for line in said:
        print(f"fastapi-boundary: {line}", file=sys.stderr)
    return status, text


def _advise(args: argparse.Namespace) -> tuple[int, str | None]:
    """Load and audit the app as ``check`` does, then advise (or plan): status and document."""
    from ._advise.plan import plan_migration
    from ._advise.render import render_advice, render_plan
    from ._advise.report import advise_app
    from ._runtime.profile_format import read_profile

    args.baseline, args.update_baseline, args.policy, args.quiet = None, False, None, False
    fmt = args.format or "table"
    try:
        chosen = check_options.settings(args, FORMATS)
        mode = Mode(args.to[0]) if args.to else None
        profile = read_profile(args.profile) if args.profile else None
    except ValueError:
        message = f"--to takes sync or async; got {args.to[0]!r}"
        print(f"error: {message}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(fmt, message, None, EXIT_LOAD_ERROR)
    except BoundaryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(fmt, str(error), None, EXIT_LOAD_ERROR)
    fmt = args.format or (chosen.format if chosen.format in ADVISE_FORMATS else "table")
    print(f"fastapi-boundary: loading {chosen.app}", file=sys.stderr)
    try:
        app = load_app(chosen.app, app_dir=chosen.app_dir, factory=chosen.factory)
    except AppLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        site = error.site if isinstance(error, _LoadError) else None
        return EXIT_LOAD_ERROR, render_error(fmt, str(error), site, EXIT_LOAD_ERROR)
    except BoundaryError as error:
        message = f"importing {chosen.app} raised {type(error).__name__}: {error}"
        print(f"error: {message}. Fix: run fastapi-boundary check first", file=sys.stderr)
        return EXIT_FINDINGS, render_error(fmt, message, None, EXIT_FINDINGS)
    report = check_app(app, config=chosen.config)
    if not report.routes:
        message = _no_routes(chosen.app, report)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(fmt, message, None, EXIT_LOAD_ERROR)
    advice = advise_app(report, app, profile=profile, profile_path=args.profile, target=chosen.app)
    if mode is None:
        return EXIT_OK, render_advice(advice, fmt, verbose=args.verbose)
    try:
        plan = plan_migration(
            advice.evidence, args.to[1], mode, root=chosen.app_dir, app=chosen.app
        )
    except BoundaryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOAD_ERROR, render_error(fmt, str(error), None, EXIT_LOAD_ERROR)
    return EXIT_OK, render_plan(plan, fmt)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    with _stdout_to_stderr():
        status, document = _advise(args) if args.command == "advise" else _audit(args)
    if document is not None:
        sys.stdout.write(document + "\n")
        sys.stdout.flush()
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
