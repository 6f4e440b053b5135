"""``python -m examples.broken``: import each broken module and show the error it raises.

Exit status, as for ``fastapi-boundary check``: 1 when every mistake was
caught and shown, 2 when one went uncaught (a module imported cleanly, raised
something else, or the audit of ``main`` found nothing).
"""

import importlib
import sys
import traceback
from types import ModuleType

from fastapi_boundary import (
    BoundaryError,
    LayerDependencyError,
    ModeMismatchError,
    ProcessTargetError,
    RouteModeError,
    check_app,
)

PACKAGE = "examples.broken"

#: module -> the error importing it must raise
EXPECTED: dict[str, type[BoundaryError]] = {
    "fake_async_repository": ModeMismatchError,
    "sync_method_in_async_service": ModeMismatchError,
    "async_service_over_sync_repository": LayerDependencyError,
    "sync_router_async_endpoint": RouteModeError,
    "async_router_sync_service": RouteModeError,
    "cpu_bound_closure": ProcessTargetError,
}


def import_fresh(name: str) -> ModuleType:
    """Import ``name`` anew, so its import-time checks run again."""
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def main() -> int:
    uncaught: list[str] = []
    for short, expected in EXPECTED.items():
        name = f"{PACKAGE}.{short}"
        print(f"\n$ import {name}")
        try:
            import_fresh(name)
        except expected as error:
            print(f"  {type(error).__name__}:")
            print(_indented(str(error)))
            continue
        except Exception:
            print(f"  expected {expected.__name__}, but importing it raised:")
            print(_indented(traceback.format_exc()))
        else:
            print(f"  imported without error: expected {expected.__name__}")
        uncaught.append(name)

    name = f"{PACKAGE}.main"
    print(f"\n$ check_app({name}.app)")
    report = check_app(import_fresh(name).app)
    for violation in report.violations:
        print(_indented(violation.message))
    print(f"  {report.summary()}")
    if report.ok:
        uncaught.append(name)

    if uncaught:
        print(f"\nuncaught: {', '.join(uncaught)}")
        return 2
    print(f"\nall {len(EXPECTED) + 1} mistakes caught")
    return 1


if __name__ == "__main__":
    sys.exit(main())
