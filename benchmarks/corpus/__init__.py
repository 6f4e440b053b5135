"""The detection corpus: three small apps shaped like public FastAPI apps (see README.md)."""
