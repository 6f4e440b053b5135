from fastapi_boundary import layer


@layer
class LegacyArchive:
    def fetch(self, key: str) -> bytes:
        return key.encode()
