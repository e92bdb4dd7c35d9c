"""Who may do what with a user's note: every route asks here before it reads the body.

The authorizer only proves who is calling; this is where ownership is checked.
"""

from __future__ import annotations

from servicekit.authorizer import Caller


def authorize_put(caller: Caller, user_id: str) -> None:
    """``PUT``: only the user themself; 403 otherwise."""
    caller.require_owner(user_id)


def authorize_get(caller: Caller, user_id: str) -> None:
    """``GET``: only the user themself; 403 otherwise."""
    caller.require_owner(user_id)
