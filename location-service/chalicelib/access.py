"""Who may do what with a user's location: every route asks here before it reads the body.

The authorizer only proves who is calling; this is where ownership is checked. (The
system this replaces let any valid token overwrite anyone's location.)
"""

from __future__ import annotations

import re

from servicekit.authorizer import Caller

from .errors import NotAUserError
from .settings import READ_SCOPE, WRITE_SCOPE

# The auth service's user ids: canonical, lower-case UUID strings.
USER_ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_user_id(value: str) -> bool:
    """Whether ``value`` has the shape of a user id (anything else can have no location)."""
    return USER_ID_PATTERN.match(value) is not None


def authorize_put(caller: Caller, user_id: str) -> None:
    """``PUT``: only the user themself, holding ``location:write``; 403 otherwise."""
    caller.require_owner(user_id, WRITE_SCOPE)
    _require_user(caller)


def authorize_get(caller: Caller, user_id: str) -> None:
    """``GET``: the user themself, or a caller holding ``location:read`` (the profile service)."""
    caller.require_owner_or_scope(user_id, READ_SCOPE)


def authorize_delete(caller: Caller, user_id: str) -> None:
    """``DELETE``: only the user themself, and (our choice) holding ``location:write``.

    The contract names only the owner. Deleting is a write, though: a token narrowed
    to other scopes (reading, or only the profile) must not be able to erase the
    location it cannot change. Every user token the auth service issues carries
    ``location:write``, so no client that follows the contract is refused.
    """
    caller.require_owner(user_id, WRITE_SCOPE)
    _require_user(caller)


def _require_user(caller: Caller) -> None:
    # Only reachable by a service client whose subject ("client:<id>") is the path's
    # user_id and that holds location:write: locations belong to users alone.
    if not is_user_id(caller.subject):
        raise NotAUserError("Locations belong to users; this token belongs to a service client.")
