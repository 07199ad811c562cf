"""Password hashing: argon2id (RFC 9106) through argon2-cffi, with its recommended parameters."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 would take more, but a longer "password" is a denial-of-service attempt

_hasher = PasswordHasher()  # argon2id by default


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    """Spend what a real verification costs, so an unknown email answers as slowly as a wrong password."""
    verify_password(_dummy_hash(), password)


def generate_password() -> str:
    """A random password for generated accounts (about 120 bits; words a person can type)."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def check_strength(password: str) -> str | None:
    """Why ``password`` is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "must not start or end with spaces"
    return None
