from collections.abc import Callable

from fastapi_boundary import cpu_bound


def make_scaler(factor: float) -> Callable[[list[float]], list[float]]:
    @cpu_bound
    def scale(values: list[float]) -> list[float]:
        return [value * factor for value in values]

    return scale


double = make_scaler(2.0)
