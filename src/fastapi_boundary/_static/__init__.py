"""The mypy plugin's internals (``fastapi_boundary.mypy`` is the entry point)."""
