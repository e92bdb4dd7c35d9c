"""Argon2id hashing of passwords (argon2-cffi), and which passwords are too common.

A password is normalised to Unicode NFKC before it is hashed or checked (NIST SP 800-63B),
so the same password typed on another keyboard (composed or decomposed accents, full-width
digits) is the same password. A hash made before that, of the password as typed, still
matches: ``verify`` tries the typed form too when it differs, and ``needs_rehash`` then
asks for a hash of the normalised form.

argon2 is imported on first use: the authorizer function, which imports ``app.py``
too, never hashes anything. zxcvbn (its list of the 30,000 most common passwords and the
patterns it matches) is imported only when a registration checks a password: about 25 ms,
once per process, on the first registration, never on a login or a cold start.
"""

from __future__ import annotations

import unicodedata
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


# zxcvbn's estimate below which a password is refused: its score 0 or 1, "too guessable:
# risky password" and "very guessable: protection from throttled online attacks".
GUESSES_REFUSED_BELOW = 10**6


def normalized(password: str) -> str:
    """The password as it is hashed and checked: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An Argon2id hash of the normalised password with a random salt, parameters included."""
    return hasher().hash(normalized(password))


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (normalised, or as typed for a hash made before); with no hash, the same work."""
    forms = dict.fromkeys((normalized(password), password))
    return any([_verify(stored_hash, form) for form in forms]) and stored_hash is not None


def needs_rehash(stored_hash: str, password: str) -> bool:
    """Whether the hash was made with weaker parameters than today's, or of the password as typed."""
    if hasher().check_needs_rehash(stored_hash):
        return True
    return normalized(password) != password and not _verify(stored_hash, normalized(password))


def commonness(password: str, username: str) -> str | None:
    """Why the password is too easy to guess (a list's common password, or a pattern of one), or None."""
    from zxcvbn import zxcvbn

    if not normalized(password).strip():
        return "The password must not be only spaces"
    estimate = zxcvbn(normalized(password)[:100], user_inputs=[username])
    if estimate["guesses"] < GUESSES_REFUSED_BELOW:
        return "The password is a commonly used one, or too close to one (or to the username)"
    return None


def _verify(stored_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(stored_hash or _decoy(), password)
    except (VerificationError, InvalidHashError):
        return False
