from fastapi import FastAPI

from fastapi_boundary import install

from . import repositories, services

__all__ = ["app", "repositories", "services"]

app = install(FastAPI())  # check_app runs at start-up and checks the deferred reference
