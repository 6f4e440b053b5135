import httpx
from fastapi import FastAPI

from fastapi_boundary import default_process_pool, install, run_cpu

from .cpu import checksum

app = FastAPI()


@app.get("/checksum/{text}")
async def read_checksum(text: str) -> dict[str, str]:
    return {"checksum": await run_cpu(checksum, text.encode(), rounds=1000)}


install(app, processes=2)  # 2 workers, started with the app and stopped with it


async def main() -> None:
    pool = default_process_pool()
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):  # start-up and shutdown, as a server runs them
        print(f"started: {pool.statistics().alive} of {pool.size} workers")
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            print((await client.get("/checksum/fastapi")).json())
    print(f"after shutdown: {pool.statistics().alive} workers")
