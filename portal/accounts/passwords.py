"""argon2id password hashing (argon2-cffi defaults; cheaper parameters only in tests)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_DEFAULT = PasswordHasher()
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only
# Verified against when the address is unknown, so both answers take the same time.
_DUMMY = {id(_DEFAULT): _DEFAULT.hash("not a password"), id(_FAST): _FAST.hash("not a password")}


def hasher() -> PasswordHasher:
    return _FAST if current_app.config.get("PASSWORD_HASH_FAST") else _DEFAULT


def hash_password(password: str) -> str:
    return hasher().hash(password)


def check_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the parameters changed and the hash should be replaced)."""
    h = hasher()
    try:
        h.verify(stored or _DUMMY[id(h)], password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, (h.hash(password) if h.check_needs_rehash(stored) else None)
