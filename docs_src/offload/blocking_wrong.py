from pathlib import Path

from fastapi_boundary import blocking


@blocking
async def read_text(path: Path) -> str:
    return path.read_text()  # still blocks the event loop
