import time

from fastapi import FastAPI

from fastapi_boundary import Limiter, blocking, install, run_blocking

search = Limiter("search", size=4, abandon_on_cancel=True, timeout=10.0)


@blocking(limiter=search)
def full_text_search(query: str) -> list[str]:
    time.sleep(2)  # a slow query the client may not wait for
    return [query]


app = FastAPI()


@app.get("/search")
async def search_endpoint(q: str) -> list[str]:
    return await run_blocking(full_text_search, q)  # cancelled if the client leaves


install(app, cancel_on_disconnect=True, thread_timeout=30.0)
