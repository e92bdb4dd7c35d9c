"""Who may change a user's profile: every write route asks here before it reads the body.

Reading a profile is public. The authorizer only proves who is calling; this is where
ownership and scope are checked.
"""

from __future__ import annotations

from servicekit.authorizer import Caller

from .settings import WRITE_SCOPE


def authorize_put(caller: Caller, user_id: str) -> None:
    """``PUT``: only the user themself, holding ``profile:write``; 403 otherwise."""
    caller.require_owner(user_id, WRITE_SCOPE)
    caller.require_user()


def authorize_delete(caller: Caller, user_id: str) -> None:
    """``DELETE``: only the user themself, and (our choice) holding ``profile:write``.

    The contract names only the owner. Deleting is a write, though: a token narrowed
    to other scopes must not be able to erase the profile it cannot change. Every user
    token the auth service issues carries ``profile:write``.
    """
    caller.require_owner(user_id, WRITE_SCOPE)
    caller.require_user()
