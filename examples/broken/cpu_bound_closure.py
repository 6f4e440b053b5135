"""``@cpu_bound`` on a function made inside another one: a worker process could never run it.

A teammate wanted the scrypt cost configurable, so the password hash is made
by a factory that closes over ``cost``.  ``@cpu_bound`` marks what async code
runs in a worker process with ``await run_cpu(hash_password, ...)``; a worker
receives the function by module and qualified name and imports it, and a
function defined inside ``make_password_hasher`` has no such name (nor could
its ``cost`` travel with it).  The decorator refuses it when the function is
defined, so importing this module raises ``ProcessTargetError``, instead of the
first login failing in production.

Fix: define ``hash_password`` at module level and pass the cost as an
argument: ``await run_cpu(hash_password, password, salt, cost=cost)``.
"""

import hashlib
from collections.abc import Callable

from fastapi_boundary import cpu_bound


def make_password_hasher(cost: int) -> Callable[[str, bytes], bytes]:
    @cpu_bound
    def hash_password(password: str, salt: bytes) -> bytes:
        return hashlib.scrypt(password.encode(), salt=salt, n=cost, r=8, p=1, dklen=32)

    return hash_password


hash_password = make_password_hasher(cost=2**14)
