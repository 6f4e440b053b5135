from contextvars import ContextVar

from fastapi_boundary import run_blocking

tenant: ContextVar[str] = ContextVar("tenant")


def authenticate(token: str) -> None:
    tenant.set({"t-1": "acme"}[token])  # a blocking lookup in real code


async def main() -> None:
    await run_blocking(authenticate, "t-1")
    print(tenant.get())  # set in the worker's copy of the context only
