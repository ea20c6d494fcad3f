"""Password hashing with argon2id.

Parameters: m = 32 MiB, t = 2, p = 1 — above OWASP's floor for argon2id (19 MiB, t = 2,
p = 1) at about 55 ms per hash on a 2-core machine, which a Lambda of 512 MB pays
comfortably once per sign-in. Hashes made with other parameters are upgraded on the
next successful login (`needs_rehash`)."""

import contextlib
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        with _dummy_lock:
            if _dummy_hash is None:
                _dummy_hash = _hasher.hash("an unguessable placeholder that no account has")
    return _dummy_hash


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches. An unknown account (None) or an unusable stored hash
    still pays one full verification, so the answer takes the same time either way."""
    try:
        return _hasher.verify(stored_hash, password) if _usable(stored_hash) else _burn(password)
    except (VerificationError, InvalidHashError):
        return False


def _usable(stored_hash: str | None) -> bool:
    return bool(stored_hash) and stored_hash.startswith("$argon2")


def _burn(password: str) -> bool:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy(), password)
    return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
