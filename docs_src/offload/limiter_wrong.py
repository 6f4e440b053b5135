from sqlalchemy import create_engine

from fastapi_boundary import Limiter

engine = create_engine("sqlite://")  # in memory: one connection per thread, no fixed size
db = Limiter("db", pool=engine)
