"""The same functions offloaded."""

from fastapi_boundary import blocking, cpu_bound, run_blocking, run_cpu


@blocking
def render_pdf(order_id: int) -> bytes:
    return b""


@cpu_bound
def score(text: str) -> int:
    return len(text)


async def handler(order_id: int) -> None:
    await run_blocking(render_pdf, order_id)
    await run_cpu(score, "text")
