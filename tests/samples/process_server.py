"""A FastAPI app whose request runs a hung ``run_cpu`` call, served by uvicorn in the fault tests.

``PROCESS_GATE`` names the folder the hung target records its worker's pid in.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from fastapi_boundary import install
from fastapi_boundary._offload.process_pool import ProcessPool, run_cpu
from tests.samples.process_targets import hang

app = FastAPI()
install(app, check="off", processes=ProcessPool(1, timeout=None))


@app.get("/hang")
async def hang_route() -> None:
    await run_cpu(hang, os.environ["PROCESS_GATE"])
