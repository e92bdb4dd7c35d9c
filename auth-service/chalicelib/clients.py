"""Clients: the client-credentials identities of other services, and the public apps users log in to.

A service client has a secret (stored hashed) and logs in with client credentials. A
public app (a browser or mobile app: it can keep no secret) has the exact redirect URIs
that ``GET /authorize`` may send its users back to, and uses the authorization code grant
with PKCE. Both are made with ``tools.admin create-client``.
"""

from __future__ import annotations

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
HOST = re.compile(r"^(\[::1\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$")


def _check_client_id(client_id: str) -> None:
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValueError("client ids are 3 to 64 characters of a-z, 0-9 and '-'")


def create_client(client_id: str, scope: str, secret: str | None = None) -> str:
    """Create (or replace) a service client and return its secret, which is stored only hashed."""
    _check_client_id(client_id)
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
