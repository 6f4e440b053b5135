"""Mode inference agrees with what FastAPI actually does, callable by callable.

The ground truth is behavioural: each callable is used as a dependency of a
real FastAPI app and reports whether it ran on the event loop thread.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies import models as dependency_models
from fastapi.security import OAuth2PasswordBearer
from fastapi.testclient import TestClient

from fastapi_boundary import Mode
from fastapi_boundary.introspection import Shape, shape_of


def on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def sync_function() -> bool:
    return on_loop()


async def async_function() -> bool:
    return on_loop()


def sync_generator() -> Iterator[bool]:
    yield on_loop()


async def async_generator() -> AsyncIterator[bool]:
    yield on_loop()


class ClassDependency:
    def __init__(self) -> None:
        self.ran_on_loop = on_loop()

    def __bool__(self) -> bool:
        return self.ran_on_loop


class SyncCallable:
    def __call__(self) -> bool:
        return on_loop()


class AsyncCallable:
    async def __call__(self) -> bool:
        return on_loop()


class GeneratorCallable:
    def __call__(self) -> Iterator[bool]:
        yield on_loop()


class AsyncGeneratorCallable:
    async def __call__(self) -> AsyncIterator[bool]:
        yield on_loop()


class Methods:
    def sync_method(self) -> bool:
        return on_loop()

    async def async_method(self) -> bool:
        return on_loop()

    @staticmethod
    async def async_static() -> bool:
        return on_loop()

    @classmethod
    def sync_class_method(cls) -> bool:
        return on_loop()


def _with_argument(flag: int) -> bool:
    return on_loop()


async def _async_with_argument(flag: int) -> bool:
    return on_loop()


@functools.wraps(async_function)
def sync_wrapper_of_async(*args: Any, **kwargs: Any) -> Any:
    return async_function(*args, **kwargs)


@functools.wraps(sync_function)
async def async_wrapper_of_sync(*args: Any, **kwargs: Any) -> bool:
    return on_loop()


@functools.lru_cache
def cached_sync() -> bool:
    return on_loop()


def _make_closure(is_async: bool) -> Callable[..., Any]:
    if is_async:

        async def closure() -> bool:
            return on_loop()

        return closure

    def sync_closure() -> bool:
        return on_loop()

    return sync_closure


def _generated_without_source() -> Callable[..., Any]:
    namespace: dict[str, Any] = {"on_loop": on_loop}
    exec("async def generated():\n    return on_loop()\n", namespace)
    return namespace["generated"]  # type: ignore[no-any-return]


def _security_scheme() -> Any:
    return OAuth2PasswordBearer(tokenUrl="token", auto_error=False)


CASES: list[tuple[str, Callable[..., Any]]] = [
    ("def", sync_function),
    ("async def", async_function),
    ("generator", sync_generator),
    ("async generator", async_generator),
    ("class", ClassDependency),
    ("instance, def __call__", SyncCallable()),
    ("instance, async def __call__", AsyncCallable()),
    ("instance, generator __call__", GeneratorCallable()),
    ("instance, async generator __call__", AsyncGeneratorCallable()),
    ("bound method", Methods().sync_method),
    ("bound async method", Methods().async_method),
    ("async staticmethod", Methods.async_static),
    ("classmethod", Methods.sync_class_method),
    ("partial of def", functools.partial(_with_argument, 1)),
    ("partial of async def", functools.partial(_async_with_argument, 1)),
    ("partial of partial", functools.partial(functools.partial(_async_with_argument), 1)),
    ("partial of async callable instance", functools.partial(AsyncCallable())),
    ("wraps: sync wrapper of async def", sync_wrapper_of_async),
    ("wraps: async wrapper of def", async_wrapper_of_sync),
    ("lru_cache", cached_sync),
    ("closure from a factory, async", _make_closure(True)),
    ("closure from a factory, sync", _make_closure(False)),
    ("generated without source", _generated_without_source()),
    ("lambda", lambda: on_loop()),
]
if sys.version_info >= (3, 12):

    def _marked() -> Any:
        return async_function()

    CASES.append(("inspect.markcoroutinefunction", inspect.markcoroutinefunction(_marked)))


def _ran_on_loop(dependency: Callable[..., Any]) -> bool:
    app = FastAPI()

    @app.get("/")
    def endpoint(value: Any = Depends(dependency)) -> bool:
        return bool(value)

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200, response.text
    return bool(response.json())


# FastAPI < 0.123.10 classified the callable itself, not what it wraps: it ran these in the thread
# pool, handing on an un-awaited coroutine as the value (fixed in 0.123.10: `_impartial`,
# `inspect.unwrap`).
_UNWRAPPED_SINCE_0_123_10 = {
    "partial of async def",
    "partial of partial",
    "partial of async callable instance",
    "wraps: sync wrapper of async def",
}
_FASTAPI_UNWRAPS = hasattr(dependency_models, "_impartial")


@pytest.mark.parametrize(("label", "dependency"), CASES, ids=[label for label, _ in CASES])
def test_mode_agrees_with_where_fastapi_runs_it(label: str, dependency: Callable[..., Any]) -> None:
    if label in _UNWRAPPED_SINCE_0_123_10 and not _FASTAPI_UNWRAPS:
        pytest.skip("needs FastAPI >= 0.123.10: older ones run a wrapped async def in the pool")
    expected = Mode.ASYNC if _ran_on_loop(dependency) else Mode.SYNC
    assert shape_of(dependency).mode is expected, label


def test_security_scheme_instance_is_async() -> None:
    shape = shape_of(_security_scheme())
    assert shape.mode is Mode.ASYNC
    assert shape.via_call


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (sync_function, Shape.FUNCTION),
        (async_function, Shape.COROUTINE_FUNCTION),
        (sync_generator, Shape.GENERATOR_FUNCTION),
        (async_generator, Shape.ASYNC_GENERATOR_FUNCTION),
        (ClassDependency, Shape.CLASS),
        (42, Shape.NOT_CALLABLE),
    ],
)
def test_shapes(call: Any, shape: Shape) -> None:
    assert shape_of(call).shape is shape


def test_not_callable_has_no_mode() -> None:
    assert shape_of(object()).mode is None


def test_target_points_at_the_definition() -> None:
    assert shape_of(functools.partial(_async_with_argument, 1)).target is _async_with_argument
    assert shape_of(sync_wrapper_of_async).target is async_function


@pytest.mark.parametrize("value", ["sync", "ASYNC", " async ", Mode.SYNC])
def test_mode_parse_accepts_strings_and_modes(value: Any) -> None:
    assert Mode.parse(value) in (Mode.SYNC, Mode.ASYNC)


@pytest.mark.parametrize("value", ["threaded", "", None, 1])
def test_mode_parse_rejects_anything_else(value: Any) -> None:
    with pytest.raises(ValueError, match="mode must be 'sync' or 'async'"):
        Mode.parse(value)


@pytest.mark.parametrize(("label", "dependency"), CASES, ids=[label for label, _ in CASES])
def test_the_fallback_mirror_agrees_with_fastapis_classifier(
    label: str, dependency: Callable[..., Any]
) -> None:
    """If FastAPI's private classifiers move, the mirror decides: it must agree today."""
    from fastapi_boundary._common.modes import _mirror_shape

    assert _mirror_shape(dependency).shape is shape_of(dependency).shape, label
