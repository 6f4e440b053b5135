from fastapi import FastAPI

from fastapi_boundary import install

from .routers import quotes, users

app = FastAPI()
app.include_router(users)
app.include_router(quotes)
install(app)  # audits the whole app when it starts; strict mode refuses to start on violations
