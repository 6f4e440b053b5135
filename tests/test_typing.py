"""Static types of the public decorators, checked by mypy (``assert_type``) and at run time.

Lines under ``TYPE_CHECKING`` carry ``type: ignore`` comments that mypy (with
``warn_unused_ignores``, part of ``--strict``) reports if they stop being
needed: they prove that a wrong argument is still caught through a decorator.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from typing_extensions import assert_type

from fastapi_boundary import AsyncService, layer, pure


def fetch(book_id: int, *, verbose: bool = False) -> str:
    return str(book_id)


async def fetch_async(book_id: int) -> str:
    return str(book_id)


class Client:
    def get(self) -> int:
        return 1


def test_layer_preserves_signatures_and_types() -> None:
    assert_type(layer(fetch)(1, verbose=True), str)
    coroutine = assert_type(layer("async")(fetch_async)(1), Coroutine[Any, Any, str])
    coroutine.close()
    assert_type(layer("sync", kind="client")(Client), type[Client])
    assert layer("sync", kind="client")(Client) is Client
    assert layer(fetch) is fetch
    if TYPE_CHECKING:
        layer(fetch)("one")  # type: ignore[arg-type]
        layer(fetch)(1, verbose="yes")  # type: ignore[arg-type]


def test_pure_preserves_the_method_type() -> None:
    class Service(AsyncService):
        @pure
        def title(self, text: str) -> str:
            return text.title()

    assert_type(Service().title("a b"), str)
    assert Service().title("a b") == "A B"
    if TYPE_CHECKING:
        Service().title(1)  # type: ignore[arg-type]
