from fastapi_boundary import cpu_bound, run_cpu
from fastapi_boundary.introspection import RemoteTraceback


class PriceError(ValueError):  # its __init__ takes what .args holds: it pickles
    pass


@cpu_bound
def parse_prices(lines: list[str]) -> list[float]:
    for number, line in enumerate(lines, 1):
        if not line.replace(".", "", 1).isdigit():
            raise PriceError(f"line {number}: {line!r} is not a price")
    return [float(line) for line in lines]


def worker_traceback(error: BaseException) -> str:
    """A note on Python 3.11 and later; the RemoteTraceback cause on 3.10."""
    if isinstance(error.__cause__, RemoteTraceback):
        return str(error.__cause__)
    return "\n".join(getattr(error, "__notes__", []))


async def main() -> None:
    try:
        await run_cpu(parse_prices, ["12.5", "abc"])
    except PriceError as error:  # the same type as in the worker
        print(repr(error))
        print(worker_traceback(error))
