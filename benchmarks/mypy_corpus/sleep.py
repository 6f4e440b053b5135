"""time.sleep in async code, by module attribute and by imported name."""

import time
from time import sleep


async def handler() -> None:
    time.sleep(0.1)  # expect
    sleep(0.1)  # expect
