"""Password hashing with Argon2id, at the cost the configuration names (RFC 9106's low-memory
profile by default)."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8
MAX_LENGTH = 256


@lru_cache(maxsize=4)
def _hasher_and_dummy(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    # Verified against when an account is unknown, so a login costs the same either way.
    return hasher, hasher.hash("switchboard-timing-equaliser")


def _configured() -> tuple[PasswordHasher, str]:
    config = current_app.config
    return _hasher_and_dummy(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"])


def hash_password(password: str) -> str:
    return _configured()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _configured()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
