"""Clients: the client-credentials identities of other services, and the public apps users log in to.

A service client has a secret and logs in with client credentials. The secret is 32
random bytes (256 bits), stored only as its SHA-256, as the authorization codes are: a
key-derivation function such as Argon2 slows the guessing of a secret a person chose, and
NIST SP 800-63B (section 5.1.2.2) asks for none for a random secret of 112 bits or more;
on the first profile read after a quiet night it would add about 25 ms of CPU to the cold
auth service the read waits for. A secret hashed with Argon2id before is still checked,
and hashed again on its next use. A
public app (a browser or mobile app: it can keep no secret) has the exact redirect URIs
that ``GET /authorize`` may send its users back to, and uses the authorization code grant
with PKCE. Both are made with ``tools.admin create-client``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import urllib.parse

from servicekit.clock import clock

from . import passwords
from .store import ClientItem, auth_store

CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")  # fullmatch: match lets a trailing newline in
MAX_REDIRECT_URI = 2000
# RFC 8252 section 7.3: plain http only back to the user's own machine (RFC 9700 section 2.1 allows it).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# RFC 8252 section 7.1: a mobile app's private-use scheme is a reversed domain name (com.example.app).
PRIVATE_USE_SCHEME = re.compile(r"^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$")
# What may be in a URI we give back in a Location header and name in a Content-Security-Policy:
# RFC 3986's characters, none of them a space, a quote, a comma or a semicolon.
URI_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+=%]+$")
SECRET_BYTES = 32
# What secrets.token_urlsafe(SECRET_BYTES) makes; a secret given (tools.admin's bootstrap
# registers a stored one again) must be at least as long.
MIN_SECRET_LENGTH = 43
SECRET_HASH_PREFIX = "sha256$"  # noqa: S105 - the stored form's label, not a secret
HOST = re.compile(r"^(\[::1\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$")


def _check_client_id(client_id: str) -> None:
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValueError("client ids are 3 to 64 characters of a-z, 0-9 and '-'")


def hash_secret(secret: str) -> str:
    """The stored form of a service client's secret: its SHA-256."""
    return SECRET_HASH_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def check_secret(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` is the one ``stored_hash`` was made of (an Argon2id hash of before, too).

    With no hash (an unknown client) the secret is hashed all the same, so the two cost alike.
    """
    if stored_hash is not None and needs_rehash(stored_hash):
        return passwords.verify(stored_hash, secret)
    digest = hash_secret(secret)
    return stored_hash is not None and hmac.compare_digest(digest, stored_hash)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the secret was hashed the way of before (Argon2id)."""
    return not stored_hash.startswith(SECRET_HASH_PREFIX)


def create_client(client_id: str, scope: str, secret: str | None = None) -> str:
    """Create (or replace) a service client and return its secret, which is stored only hashed."""
    _check_client_id(client_id)
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"a client secret must be at least {MIN_SECRET_LENGTH} characters: {SECRET_BYTES} random bytes, "
            "as secrets.token_urlsafe makes them"
        )
    secret = secret or secrets.token_urlsafe(SECRET_BYTES)
    auth_store().put_client(
        {
            "pk": f"client#{client_id}",
            "client_id": client_id,
            "secret_hash": hash_secret(secret),
            "scope": scope,
            "created_at": clock().iso(),
        }
    )
    return secret


def create_public_client(client_id: str, scope: str, redirect_uris: list[str]) -> None:
    """Create (or replace) a public app with its exact redirect URIs (``ValueError`` for a URI it may not have)."""
    _check_client_id(client_id)
    if not redirect_uris:
        raise ValueError("a public client needs at least one redirect URI")
    for uri in redirect_uris:
        check_redirect_uri(uri)
    auth_store().put_client(
        {
            "pk": f"client#{client_id}",
            "client_id": client_id,
            "scope": scope,
            "redirect_uris": list(dict.fromkeys(redirect_uris)),
            "created_at": clock().iso(),
        }
    )


def check_redirect_uri(uri: str) -> None:
    """Refuse a redirect URI that RFC 6749 section 3.1.2 and RFC 9700 section 2.1 do not allow.

    Absolute, without a fragment or user info; ``https``, ``http`` to a loopback host
    only, or a mobile app's private-use scheme (RFC 8252 section 7.1).
    """
    if len(uri) > MAX_REDIRECT_URI or not URI_CHARACTERS.fullmatch(uri):
        raise ValueError(f"redirect URI {uri[:80]!r}: at most {MAX_REDIRECT_URI} characters of RFC 3986, no spaces")
    parts = urllib.parse.urlsplit(uri)
    if "#" in uri:
        raise ValueError(f"redirect URI {uri!r}: no fragment (RFC 6749 section 3.1.2)")
    if parts.scheme in ("http", "https"):
        host = parts.netloc.rpartition(":")[0] if parts.port is not None else parts.netloc
        if "@" in parts.netloc or not HOST.fullmatch(host):
            raise ValueError(f"redirect URI {uri!r}: a host name without user info is needed")
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ValueError(f"redirect URI {uri!r}: plain http only to localhost, 127.0.0.1 or [::1] (RFC 8252)")
        return
    if not PRIVATE_USE_SCHEME.fullmatch(parts.scheme) or parts.netloc:
        raise ValueError(
            f"redirect URI {uri!r}: https, http to a loopback host, or a private-use scheme such as "
            "com.example.app:/callback (RFC 8252 section 7.1)"
        )


def origin(uri: str) -> str:
    """Where ``uri`` sends the browser, as a Content-Security-Policy source: its origin, or its scheme."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def public_client(client_id: str) -> ClientItem | None:
    """The public app of that id, or None (unknown, or a service client)."""
    item = auth_store().client(client_id)
    return item if item is not None and item.get("redirect_uris") else None
