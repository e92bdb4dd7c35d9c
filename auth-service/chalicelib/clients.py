"""Service clients: the client-credentials identities of other services."""

from __future__ import annotations

import re
import secrets

from servicekit.clock import clock

from . import passwords
from .store import auth_store

CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")  # fullmatch: match lets a trailing newline in


def create_client(client_id: str, scope: str, secret: str | None = None) -> str:
    """Create (or replace) a client and return its secret, which is stored only hashed."""
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValueError("client ids are 3 to 64 characters of a-z, 0-9 and '-'")
    secret = secret or secrets.token_urlsafe(32)
    auth_store().put_client(
        {
            "pk": f"client#{client_id}",
            "client_id": client_id,
            "secret_hash": passwords.hash_password(secret),
            "scope": scope,
            "created_at": clock().iso(),
        }
    )
    return secret
