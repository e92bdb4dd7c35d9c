"""Who may do what with a user's location: every route asks here before it reads the body.

The authorizer only proves who is calling; this is where ownership is checked. (The
system this replaces let any valid token overwrite anyone's location.)
"""

from __future__ import annotations

from servicekit.authorizer import Caller, is_user_id

from .settings import READ_SCOPE, WRITE_SCOPE


def authorize_put(caller: Caller, user_id: str) -> None:
    """``PUT``: only the user themself, holding ``location:write``; 403 otherwise."""
    caller.require_owner(user_id, WRITE_SCOPE)
    caller.require_user()


def authorize_get(caller: Caller, user_id: str) -> None:
    """``GET``: the user themself, or a service holding ``location:read`` (the profile service).

    A user's token reads that user's location only, whatever scopes it carries: the
    contract grants reading anyone's location to a service, not to a user.
    """
    if is_user_id(caller.subject):
        caller.require_owner(user_id)
    else:
        caller.require_owner_or_scope(user_id, READ_SCOPE)


def authorize_delete(caller: Caller, user_id: str) -> None:
    """``DELETE``: only the user themself, and (our choice) holding ``location:write``.

    The contract names only the owner. Deleting is a write, though: a token narrowed
    to other scopes (reading, or only the profile) must not be able to erase the
    location it cannot change. Every user token the auth service issues carries
    ``location:write``, so no client that follows the contract is refused.
    """
    caller.require_owner(user_id, WRITE_SCOPE)
    caller.require_user()
