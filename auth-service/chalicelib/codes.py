"""Authorization codes (RFC 6749 section 4.1) with PKCE (RFC 7636): issued after a login, used once.

A code works once, within ``CODE_TTL_S`` (60 s) of the login, for the client, the redirect
URI and the PKCE verifier of the request it answers. It is stored only as its SHA-256,
like a refresh token. Its first use marks it used and starts its login (a refresh-token
family whose id the code carries) in one transaction; any later use is theft (RFC 6749
section 4.1.2: "the authorization server MUST deny the request and SHOULD revoke ... all
tokens previously issued based on that authorization code"): refused, and that family is
revoked. The stored item outlives the code (``CODE_MEMORY_S``), so a late second use is
still recognised.

PKCE S256 is two standard-library calls (RFC 7636 section 4.2 and appendix B): no library
is needed for it, and the comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from typing import NoReturn

from servicekit.clock import clock

from . import metrics
from .errors import InvalidCodeError
from .models import AuthorizationCodeGrant
from .settings import CODE_TTL_S
from .store import AuthorizationRequestItem, CodeItem, CodeUsedError, auth_store, code_key

logger = logging.getLogger(__name__)

# How long a used or expired code's item is kept (its TTL), so that a second use within
# this time is recognised as theft rather than answered as an unknown code.
CODE_MEMORY_S = 24 * 3600


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: ``BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))``, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is the one whose S256 challenge is ``challenge`` (constant-time)."""
    return hmac.compare_digest(s256(verifier), challenge)


def issue(request_id: str, request: AuthorizationRequestItem, user_id: str) -> str:
    """A new code for the user who logged in on the page of ``request_id``, which it uses up.

    ``AuthorizationRequestGoneError`` (from the store) if that page's form was posted
    successfully already, or has expired.
    """
    code, now = secrets.token_urlsafe(32), clock().now()
    item: CodeItem = {
        "pk": code_key(code)["pk"],
        "client_id": request["client_id"],
        "redirect_uri": request["redirect_uri"],
        "code_challenge": request["code_challenge"],
        "user_id": user_id,
        "scope": request["scope"],
        "family_id": uuid.uuid4().hex,
        "used": False,
        "valid_until": now + CODE_TTL_S,
        "expires_at": now + CODE_MEMORY_S,
    }
    auth_store().issue_code(request_id, item, now)
    return code


def redeem(grant: AuthorizationCodeGrant, client_id: str, refresh_token: str, refresh_expires_at: int) -> CodeItem:
    """Use the code once: its login starts, with ``refresh_token``; ``InvalidCodeError`` (``invalid_grant``) if not.

    Refused without a change: an unknown or expired code, another client, another redirect
    URI, a verifier that does not match. Refused and its login revoked: a code used before.
    """
    store, now = auth_store(), clock().now()
    item = store.code(grant.code)
    if item is None:
        raise InvalidCodeError("The authorization code is not valid.")
    if item["used"]:
        _revoke_stolen(item)
    if item["valid_until"] <= now:
        raise InvalidCodeError("The authorization code has expired.")
    if item["client_id"] != client_id:
        raise InvalidCodeError("The authorization code was issued to another client.")
    if item["redirect_uri"] != grant.redirect_uri:
        raise InvalidCodeError("The redirect_uri is not the one the authorization request named.")
    if not verifier_matches(grant.code_verifier, item["code_challenge"]):
        raise InvalidCodeError("The code_verifier does not match the code_challenge (PKCE S256).")
    try:
        store.redeem_code(grant.code, item, refresh_token, refresh_expires_at, now)
    except CodeUsedError:
        # A concurrent use got there first (theft, or a client sending twice), or it just expired.
        latest = store.code(grant.code)
        if latest is not None and latest["used"]:
            _revoke_stolen(latest)
        raise InvalidCodeError("The authorization code has expired.") from None
    return item


def _revoke_stolen(item: CodeItem) -> NoReturn:
    logger.warning(
        "authorization code of client %s used again: its login (family %s) is revoked",
        item["client_id"],
        item["family_id"],
    )
    metrics.count(metrics.AUTHORIZATION_CODE_REUSE)
    auth_store().revoke_family(item["family_id"])
    raise InvalidCodeError("The authorization code was used already; the login it started is revoked.")
