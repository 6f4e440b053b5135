from fastapi_boundary import layer


@layer("async")
def get_session() -> str:
    return "session"
