"""Argon2id hashing of passwords and client secrets (argon2-cffi).

argon2 is imported on first use: the authorizer function, which imports ``app.py``
too, never hashes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicekit.lazy import Lazy

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# OWASP's minimum for Argon2id: 19 MiB of memory, 2 iterations, 1 lane.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


def _new_hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


hasher = Lazy(_new_hasher)
# Verified against when the user does not exist, so that an unknown username costs the
# same time as a wrong password and the two cannot be told apart.
_decoy = Lazy(lambda: hasher().hash("decoy password that matches nothing"))


def hash_password(password: str) -> str:
    """An Argon2id hash with a random salt, parameters included."""
    return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash, the same work and False."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(stored_hash or _decoy(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return hasher().check_needs_rehash(stored_hash)
