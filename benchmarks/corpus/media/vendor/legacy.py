"""A client for a legacy line-protocol cache server: a plain TCP socket per request."""

import socket


class LegacyCache:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)

    def fetch(self, key: str) -> bytes:
        with socket.create_connection(self.address, timeout=2) as sock:
            sock.sendall(f"GET {key}\r\n\r\n".encode())
            return sock.recv(64)
