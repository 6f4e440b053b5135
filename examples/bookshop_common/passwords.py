"""Password hashing: CPU work, which must never run on the event loop.

scrypt is slow on purpose (about 50 ms of one core and 16 MiB per hash):
that is what makes a stolen table of hashes expensive to attack, and what
would stall every other request for as long if an ``async def`` computed it.

``hash_password`` and ``check_password`` are marked ``@cpu_bound``: they
are module-level functions a worker process can import, checked when they are
defined.  The sync shop calls them directly: its services run in FastAPI's
threadpool, off the loop.  The async shop awaits
``run_cpu(hash_password, ...)``: a worker process computes the hash while the
loop serves other requests.
"""

import hashlib
import hmac
import os

from fastapi_boundary import cpu_bound

SALT_BYTES = 16
HASH_BYTES = 32
# scrypt's cost: 128 * r * n bytes of memory (16 MiB), and about as many milliseconds.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1

#: Checked against when a login names no customer: the answer then takes as long as
#: a wrong password's, so its timing does not tell which names exist.
DECOY_SALT = bytes(SALT_BYTES)
DECOY_HASH = bytes(HASH_BYTES)


def new_salt() -> bytes:
    """A fresh random salt, one per customer."""
    return os.urandom(SALT_BYTES)


@cpu_bound
def hash_password(password: str, salt: bytes) -> bytes:
    """The scrypt hash of ``password`` with ``salt``."""
    return hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES
    )


@cpu_bound
def check_password(password: str, salt: bytes, expected: bytes) -> bool:
    """Whether ``password`` hashes to ``expected``; compared in constant time."""
    return hmac.compare_digest(hash_password(password, salt), expected)
