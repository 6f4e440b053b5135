"""Blocking calls under other names: an aliased import and a renamed module."""

import subprocess as sp
import time as clock
from time import sleep as pause


async def handler() -> None:
    clock.sleep(1)  # expect
    pause(1)  # expect
    sp.run(["ls"], check=True)  # expect
