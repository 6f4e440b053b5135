"""Slow hashing and thread locks in async code."""

import hashlib
import threading


async def handler(lock: threading.Lock, password: bytes) -> None:
    hashlib.pbkdf2_hmac("sha256", password, b"salt", 100_000)  # expect
    lock.acquire()  # expect
