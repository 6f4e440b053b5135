from fastapi import FastAPI

from fastapi_boundary import install

app = install(FastAPI(), processes=0)  # a pool with no workers
