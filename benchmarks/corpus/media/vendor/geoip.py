"""A GeoIP web-service client: a ``requests.Session`` underneath, and its asyncio twin."""

import httpx
import requests


class GeoIPClient:
    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _get(self, path: str):
        response = self._session.get(f"{self.base_url}{path}", timeout=self.timeout)
        return response.status_code

    def city(self, ip: str):
        return {"ip": ip, "status": self._get(f"/city/{ip}")}


class AsyncGeoIPClient:
    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def city(self, ip: str):
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(f"{self.base_url}/city/{ip}")
        return {"ip": ip, "status": response.status_code}
