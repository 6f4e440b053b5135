"""Blocking HTTP and socket calls in async code."""

import socket
import urllib.request

import httpx
import requests


async def handler() -> None:
    requests.get("https://example.org")  # expect
    httpx.get("https://example.org")  # expect
    urllib.request.urlopen("https://example.org")  # expect
    socket.create_connection(("example.org", 80))  # expect
    with httpx.Client() as client:
        client.get("https://example.org")  # expect
