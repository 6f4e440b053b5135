"""Domain errors raised by the services, and the one handler that maps them to HTTP.

Services know nothing of HTTP: they raise ``NotFoundError``,
``OutOfStockError``, ``NameTakenError`` or ``AuthenticationError``;
``add_error_handlers`` turns those into 404, 409, 409 and 401.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class BookshopError(Exception):
    """A business rule said no; ``status_code`` is the HTTP status it maps to."""

    status_code = 400


class NotFoundError(BookshopError):
    """The author, book or order asked for does not exist."""

    status_code = 404


class OutOfStockError(BookshopError):
    """An order asks for more copies than are in stock."""

    status_code = 409


class NameTakenError(BookshopError):
    """A customer registers under a name another customer already has."""

    status_code = 409


class AuthenticationError(BookshopError):
    """A login names no customer, or the wrong password: the message does not say which."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("wrong name or password")


async def _bookshop_error_response(request: Request, error: Exception) -> JSONResponse:
    status = error.status_code if isinstance(error, BookshopError) else 500
    return JSONResponse({"detail": str(error)}, status_code=status)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`BookshopError` with its status code and message."""
    app.add_exception_handler(BookshopError, _bookshop_error_response)
