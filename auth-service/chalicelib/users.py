"""Registering users and reading them back."""

from __future__ import annotations

import uuid

from servicekit.authorizer import Caller
from servicekit.clock import clock

from . import attempts, metrics, passwords
from .errors import UsernameTakenError, UserNotFoundError
from .models import Registration, User
from .store import UserItem, UsernameClaimedError, auth_store


def register(registration: Registration, address: str) -> User:
    """Create the user; 409 if the (lower-cased) username is taken, 429 past the address's limit (nothing hashed)."""
    attempts.spend(address)
    user_id = str(uuid.uuid4())
    item: UserItem = {
        "pk": f"user#{user_id}",
        "user_id": user_id,
        "username": registration.username,
        "password_hash": passwords.hash_password(registration.password),
        "created_at": clock().iso(),
    }
    try:
        auth_store().add_user(item)
    except UsernameClaimedError:
        raise UsernameTakenError(f"The username {registration.username} is taken.") from None
    metrics.count(metrics.REGISTRATIONS)
    return _public(item)


def current_user(caller: Caller) -> User:
    """The user a token was issued to; 403 for a service client's token."""
    caller.require_user()
    user = auth_store().user(caller.subject)
    if user is None:
        raise UserNotFoundError("The token's user does not exist.")
    return _public(user)


def _public(item: UserItem) -> User:
    return User(user_id=item["user_id"], username=item["username"], created_at=item["created_at"])
