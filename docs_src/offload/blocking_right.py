from pathlib import Path

from fastapi_boundary import Limiter, blocking, run_blocking

files = Limiter("files", size=4)  # at most 4 threads read files at once

PRICES = Path(__file__).with_name("prices.json")


@blocking(limiter=files)
def read_text(path: Path, *, encoding: str = "utf-8") -> str:
    return path.read_text(encoding=encoding)


def unchanged(text: str) -> bool:
    return read_text(PRICES) == text  # from sync code: a plain call, nothing added


async def main() -> None:
    text = await run_blocking(read_text, PRICES, encoding="utf-8")  # under "files"
    print(text.strip())
    print(await run_blocking(unchanged, text))
