"""Local objects that merely share a blocking function's name."""


class Clock:
    def sleep(self, seconds: float) -> None:
        pass


class Requests:
    def get(self, url: str) -> str:
        return url


async def handler() -> None:
    time = Clock()
    time.sleep(1)
    requests = Requests()
    requests.get("https://example.org")
