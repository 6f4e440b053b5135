from contextvars import ContextVar

from fastapi_boundary import blocking, run_blocking

request_id: ContextVar[str] = ContextVar("request_id", default="-")
tenant: ContextVar[str] = ContextVar("tenant")


@blocking(copy_context_back=True)  # what the worker sets is copied back to the caller
def authenticate(token: str) -> None:
    print(f"worker sees request {request_id.get()}")  # copied in: always
    tenant.set({"t-1": "acme"}[token])


async def main() -> None:
    request_id.set("r-42")
    await run_blocking(authenticate, "t-1")
    print(f"caller sees tenant {tenant.get()}")
