from fastapi_boundary import cpu_bound, run_cpu


class PriceError(Exception):
    def __init__(self, line: int, text: str) -> None:  # two arguments, one in .args
        super().__init__(f"line {line}: {text!r} is not a price")


@cpu_bound
def parse_prices(lines: list[str]) -> list[float]:
    for number, line in enumerate(lines, 1):
        if not line.replace(".", "", 1).isdigit():
            raise PriceError(number, line)
    return [float(line) for line in lines]


async def main() -> None:
    print(await run_cpu(parse_prices, ["12.5", "abc"]))
