from shop.main import app

from fastapi_boundary import install

install(app, monitor=True)
