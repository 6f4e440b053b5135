"""Blocking child processes in async code."""

import os
import subprocess


async def handler() -> None:
    subprocess.run(["ls"], check=True)  # expect
    os.system("ls")  # expect
