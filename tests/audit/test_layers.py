"""R1/R2/R3 at class creation and decoration, with the messages they print."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Optional, Union

import pytest
from fastapi import Depends

from fastapi_boundary import (
    AsyncRepository,
    AsyncService,
    BoundaryError,
    BoundaryWarning,
    LayerDeclarationError,
    LayerDependencyError,
    Mode,
    ModeMismatchError,
    SyncRepository,
    SyncService,
    configure,
    layer,
    pure,
)
from fastapi_boundary._common.declarations import declared_layer
from fastapi_boundary.introspection import LayerInfo

THIS_FILE = "tests/audit/test_layers.py"


class BookRepository(SyncRepository):
    def get(self, book_id: int) -> dict[str, int]:
        return {"id": book_id}

    def stream(self) -> Iterator[int]:
        yield 1


class AsyncBookRepository(AsyncRepository):
    async def get(self, book_id: int) -> dict[str, int]:
        return {"id": book_id}

    async def stream(self) -> AsyncIterator[int]:
        yield 1


def get_book_repository() -> BookRepository:
    return BookRepository()


async def get_async_book_repository() -> AsyncBookRepository:
    return AsyncBookRepository()


# --- R2 ------------------------------------------------------------------------------


def test_correct_layers_are_accepted_and_declared() -> None:
    assert declared_layer(BookRepository) == (LayerInfo(Mode.SYNC, "repository"), BookRepository)
    assert declared_layer(AsyncBookRepository()) is not None
    assert BookRepository.__boundary_layer__.mode is Mode.SYNC


def test_async_method_in_sync_layer_names_method_layer_lines_and_fix() -> None:
    with pytest.raises(ModeMismatchError) as caught:

        class FakeSyncRepository(SyncRepository):
            async def get(self, book_id: int) -> None: ...

    message = str(caught.value)
    assert message.startswith("R2 callable-mode: ")
    assert "FakeSyncRepository.get" in message
    assert "is an async def but" in message
    assert "is a sync repository" in message
    assert message.count(f"{THIS_FILE}:") == 2
    assert "fix: make get a plain def" in message
    assert "docs: https://" in message and "r2-callable-mode" in message
    violation = caught.value.violations[0]
    assert violation.subject.mode is Mode.ASYNC
    assert violation.other is not None and violation.other.mode is Mode.SYNC


def test_sync_method_in_async_layer_suggests_pure() -> None:
    with pytest.raises(
        ModeMismatchError, match="is a plain def but .* is an async service"
    ) as caught:

        class FakeAsyncService(AsyncService):
            def total(self) -> int:
                return 1

    assert "decorate it with @pure or name it _total" in str(caught.value)


def test_generators_follow_their_mode() -> None:
    with pytest.raises(ModeMismatchError, match="async generator"):

        class StreamingSyncRepository(SyncRepository):
            async def rows(self) -> AsyncIterator[int]:
                yield 1

    with pytest.raises(ModeMismatchError, match="generator"):

        class StreamingAsyncRepository(AsyncRepository):
            def rows(self) -> Iterator[int]:
                yield 1


def test_escapes_private_dunder_property_and_pure() -> None:
    class Tidy(AsyncService):
        def __init__(self) -> None:
            self.items: list[int] = []

        def _helper(self) -> int:
            return 1

        @property
        def size(self) -> int:
            return len(self.items)

        @functools.cached_property
        def label(self) -> str:
            return "tidy"

        @pure
        def format_title(self, title: str) -> str:
            return title.title()

        @staticmethod
        @pure
        def slug(title: str) -> str:
            return title.lower()

        async def fetch(self) -> int:
            return self._helper()

    assert Tidy().format_title("a b") == "A B"
    assert Tidy.slug("A") == "a"


def test_static_and_class_methods_are_checked() -> None:
    with pytest.raises(ModeMismatchError, match="Repo.create"):

        class Repo(SyncRepository):
            @classmethod
            async def create(cls) -> Repo:
                return cls()

    with pytest.raises(ModeMismatchError, match="Other.build"):

        class Other(AsyncRepository):
            @staticmethod
            def build() -> None: ...


def test_call_is_public() -> None:
    with pytest.raises(ModeMismatchError, match=r"Callable\.__call__") as caught:

        class Callable(SyncService):
            async def __call__(self) -> None: ...

    assert "private helper" not in str(caught.value)  # a dunder cannot be renamed


def test_partialmethod_and_wrapped_methods_are_seen_through() -> None:
    async def _impl(self: Any, value: int) -> int:
        return value

    with pytest.raises(ModeMismatchError, match="get_one"):

        class WithPartial(SyncRepository):
            get_one = functools.partialmethod(_impl, 1)

    def logged(function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

        return wrapper

    with pytest.raises(ModeMismatchError, match="WithWrapper.get"):

        class WithWrapper(SyncRepository):
            @logged
            async def get(self) -> None: ...


def test_mixins_and_subclasses_of_subclasses_are_checked() -> None:
    class AsyncMixin:
        async def ping(self) -> None: ...

    with pytest.raises(ModeMismatchError, match="ping") as caught:

        class Mixed(AsyncMixin, SyncService):
            def work(self) -> None: ...

    assert "Mixed" in str(caught.value)

    class Base(SyncService):
        def work(self) -> None: ...

    class Child(Base):
        def more(self) -> None: ...

    assert declared_layer(Child) == (LayerInfo(Mode.SYNC, "service"), Child)
    with pytest.raises(ModeMismatchError, match="GrandChild.more"):

        class GrandChild(Child):
            async def more(self) -> None: ...  # type: ignore[override]


def test_pure_on_a_sync_layer_is_harmless() -> None:
    class Plain(SyncService):
        @pure
        def helper(self) -> int:
            return 1

    assert Plain().helper() == 1


# --- R1: one mode per layer, declared -----------------------------------------------


def test_both_modes_in_the_bases_is_an_error() -> None:
    with pytest.raises(LayerDeclarationError) as caught:

        class Confused(SyncRepository, AsyncService):
            pass

    message = str(caught.value)
    assert message.startswith("R1 declared-mode:")
    assert "SyncRepository" in message and "AsyncService" in message
    assert "fix: a layer has exactly one mode" in message
    assert isinstance(caught.value, TypeError)


# --- R3 ------------------------------------------------------------------------------


def test_async_service_over_sync_repository_in_init() -> None:
    with pytest.raises(LayerDependencyError) as caught:

        class Catalogue(AsyncService):
            def __init__(self, books: BookRepository) -> None:
                self.books = books

            async def list(self) -> None: ...

    message = str(caught.value)
    assert message.startswith("R3 same-mode-dependencies: async service")
    assert "depends on sync repository BookRepository" in message
    assert "through parameter 'books' of" in message
    assert "Catalogue.__init__" in message
    assert message.count(f"{THIS_FILE}:") == 2
    assert "fix: give" in message and "async repository" in message
    assert "r3-same-mode-dependencies" in message


def test_sync_service_over_async_repository_in_attribute() -> None:
    with pytest.raises(LayerDependencyError, match="attribute 'books'") as caught:

        class Orders(SyncService):
            books: AsyncBookRepository

    assert "a sync service cannot await" in str(caught.value)


@pytest.mark.parametrize(
    "annotation",
    [
        pytest.param(Optional[BookRepository], id="Optional"),  # noqa: UP045 - the old spelling
        pytest.param(Union[int, BookRepository], id="Union"),  # noqa: UP007
        pytest.param(BookRepository | None, id="X | None"),
        pytest.param(list[BookRepository], id="list"),
        pytest.param(dict[str, tuple[int, BookRepository]], id="nested"),
        pytest.param(type[BookRepository], id="type"),
        pytest.param(Annotated[BookRepository, "metadata"], id="Annotated"),
        pytest.param(Annotated[Any, Depends(get_book_repository)], id="Annotated-Depends"),
        pytest.param("BookRepository", id="string"),
        pytest.param("list[BookRepository] | None", id="string-union"),
        pytest.param(list["BookRepository"], id="list-of-string"),
    ],
)
def test_references_are_found_through_any_annotation(annotation: Any) -> None:
    with pytest.raises(LayerDependencyError, match="BookRepository"):
        type("Svc", (AsyncService,), {"__annotations__": {"repo": annotation}})


def test_depends_default_and_layer_function_provider() -> None:
    @layer
    def provide() -> BookRepository:
        return BookRepository()

    with pytest.raises(LayerDependencyError, match="provide"):

        class Svc(AsyncService):
            def __init__(self, repo: Any = Depends(provide)) -> None:
                self.repo = repo

    with pytest.raises(LayerDependencyError, match="BookRepository"):

        class Svc2(AsyncService):
            def __init__(self, *, repo: Any = Depends(get_book_repository)) -> None:
                self.repo = repo


def test_same_mode_dependencies_are_fine() -> None:
    class Catalogue(SyncService):
        def __init__(
            self,
            books: BookRepository,
            extra: Annotated[BookRepository, Depends(get_book_repository)],
            many: list[BookRepository] | None = None,
        ) -> None:
            self.books = books

        def list(self) -> list[dict[str, int]]:
            return [self.books.get(1)]

    class AsyncCatalogue(AsyncService):
        books: AsyncBookRepository

        def __init__(
            self, books: Annotated[AsyncBookRepository, Depends(get_async_book_repository)]
        ) -> None:
            self.books = books

        async def list(self) -> list[dict[str, int]]:
            return [await self.books.get(1)]

    assert Catalogue(BookRepository(), BookRepository()).list() == [{"id": 1}]


def test_inherited_constructor_is_checked_in_the_subclass_mode() -> None:
    class Holder:
        def __init__(self, repo: BookRepository) -> None:
            self.repo = repo

    with pytest.raises(LayerDependencyError, match="Holder.__init__"):

        class AsyncHolder(Holder, AsyncService):
            pass


# --- forward references ---------------------------------------------------------------


def test_forward_reference_checked_when_the_class_appears() -> None:
    class Early(AsyncService):
        def __init__(self, repo: Later) -> None:
            self.repo = repo

    with pytest.raises(LayerDependencyError) as caught:

        class Later(SyncRepository):
            pass

    message = str(caught.value)
    assert "async service" in message and "Early" in message
    assert "sync repository" in message and "Later" in message


# --- the layer decorator --------------------------------------------------------------


def test_layer_on_function_reads_the_definition() -> None:
    @layer
    async def fetch() -> int:
        return 1

    @layer("sync", kind="repository")
    def read() -> int:
        return 1

    assert declared_layer(fetch) == (LayerInfo(Mode.ASYNC, "layer"), fetch)
    assert declared_layer(read) == (LayerInfo(Mode.SYNC, "repository"), read)
    assert declared_layer(functools.partial(read)) is not None


def test_layer_function_of_the_wrong_mode() -> None:
    with pytest.raises(ModeMismatchError, match="declared an async layer but is a plain def"):

        @layer(Mode.ASYNC)
        def not_async() -> None: ...


def test_layer_function_dependencies_are_checked() -> None:
    with pytest.raises(LayerDependencyError, match="parameter 'repo' of"):

        @layer
        async def handler(repo: Annotated[BookRepository, Depends(get_book_repository)]) -> None:
            pass


def test_layer_on_a_third_party_class() -> None:
    class ThirdParty:
        def fetch(self) -> int:
            return 1

    assert layer("sync", kind="client")(ThirdParty) is ThirdParty
    assert declared_layer(ThirdParty) == (LayerInfo(Mode.SYNC, "client"), ThirdParty)

    class AsyncThirdParty:
        def fetch(self) -> int:
            return 1

    with pytest.raises(ModeMismatchError, match="AsyncThirdParty.fetch"):
        layer("async")(AsyncThirdParty)


def test_layer_misuse_is_a_clear_error() -> None:
    class NoMode:
        pass

    with pytest.raises(LayerDeclarationError, match="R1 declared-mode: @layer on class NoMode"):
        layer(NoMode)
    with pytest.raises(LayerDeclarationError, match="'sync' or 'async'"):
        layer("threaded")  # type: ignore[call-overload]
    with pytest.raises(LayerDeclarationError, match="applies to classes and functions"):
        layer("sync")(property(lambda self: 1))  # type: ignore[type-var]
    with pytest.raises(LayerDeclarationError, match="applies to classes and functions"):
        layer("sync")(42)  # type: ignore[type-var]
    with pytest.raises(LayerDeclarationError, match="cannot declare int"):
        layer("sync")(int)


def test_pure_misuse() -> None:
    with pytest.raises(LayerDeclarationError, match="@pure marks plain def helpers"):

        @pure
        async def not_pure() -> None: ...

    with pytest.raises(LayerDeclarationError, match="@pure"):
        pure(BookRepository)


def test_conflicting_layer_decorator_on_a_layer_class() -> None:
    with pytest.raises(LayerDeclarationError, match="inherits both modes"):
        layer("async")(BookRepository)


# --- configuration -------------------------------------------------------------------


def test_warn_mode_warns_and_off_mode_skips() -> None:
    configure("warn")
    with pytest.warns(BoundaryWarning, match="R2 callable-mode"):

        class Warned(SyncRepository):
            async def get(self) -> None: ...

    configure("off")
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Silent(SyncRepository):
            async def get(self) -> None: ...

    assert declared_layer(Silent) is not None


def test_configure_rejects_unknown_modes() -> None:
    with pytest.raises(BoundaryError, match="strict, warn, off"):
        configure("loud")  # type: ignore[arg-type]


def test_errors_are_also_builtin_errors() -> None:
    assert issubclass(ModeMismatchError, TypeError)
    assert issubclass(LayerDependencyError, TypeError)
    assert issubclass(LayerDeclarationError, TypeError)
