"""`python -m docs_src.offload.script` runs; `python docs_src/offload/script.py` is refused."""

import anyio

from fastapi_boundary import cpu_bound, run_cpu


@cpu_bound
def word_count(text: str) -> int:
    return len(text.split())


async def main() -> None:
    print(await run_cpu(word_count, "one async boundary per request"))


if __name__ == "__main__":
    anyio.run(main)
