"""Admin passwords: argon2id, checked off the event loop, a few at a time.

A hash costs tens of milliseconds of CPU. Run on the event loop it would stall every other page
of the process during a burst of logins, so it runs in a thread, and at most ``concurrency`` at
once so that a burst cannot take every core either. An unknown address is checked against a
dummy hash, so that how long a login takes does not reveal which addresses have an account.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): one lane keeps each hash on one core.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32,
                         salt_len=16, type=Type.ID)
# The scheme before argon2id; such hashes still verify and are replaced at the next login.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> tuple[bool, bool]:
    """(whether it matches, whether the stored hash should be replaced by a fresh one)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored), True
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _HASHER.check_needs_rehash(stored)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


class PasswordChecker:
    def __init__(self, concurrency: int | None = None) -> None:
        # Half the cores, at least one: the other half keeps serving pages.
        self.concurrency = concurrency or max(1, (os.cpu_count() or 2) // 2)
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    async def verify(self, password: str, stored: str | None) -> tuple[bool, bool]:
        """Check a login; ``stored`` is None for an unknown address (then never a match)."""
        async with self._semaphore():
            ok, rehash = await asyncio.to_thread(verify_password, password,
                                                 stored or _dummy_hash())
        return (ok and stored is not None), rehash

    async def hash(self, password: str) -> str:
        async with self._semaphore():
            return await asyncio.to_thread(hash_password, password)
