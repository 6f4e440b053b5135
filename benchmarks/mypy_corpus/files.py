"""Blocking file system calls in async code."""

import os
import shutil
from pathlib import Path


async def handler(path: Path) -> str:
    os.path.exists("data.txt")  # expect
    shutil.copy("a", "b")  # expect
    with open("data.txt") as handle:  # expect
        handle.read()  # expect
    return path.read_text()  # expect
