"""Project-specific blocking functions marked @blocking/@cpu_bound, called directly."""

from fastapi_boundary import blocking, cpu_bound


@blocking
def render_pdf(order_id: int) -> bytes:
    return b""


@cpu_bound
def score(text: str) -> int:
    return len(text)


pdf = render_pdf


async def handler(order_id: int) -> None:
    render_pdf(order_id)  # expect
    pdf(order_id)  # expect
    score("text")  # expect
