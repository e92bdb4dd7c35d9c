"""Erasing an account (``POST /users/me/erasure``): gone at once here, then everywhere through an event.

The request is checked like a login, by the same check (``tokens.check_password``: the
address's budget, the username's lockout and slowdown; a wrong password counts as a
failed login). Then one transaction
deletes the user and the username claim and writes the erasure's record
(``erasure#<user_id>``, ``store.py``): the username is free again, every refresh token of
the user stops working (rotation checks that the user exists), and the auth table's
stream carries the record to the function that publishes the ``UserErased`` event
(``app.py``'s ``publish_erasures``). The record is the outbox: written in the same
transaction as the delete, it cannot be lost between the delete and the event, and the
stream delivers it until the publisher succeeds.

No ``from __future__ import annotations`` here: msgspec resolves the models' annotations.
"""

import uuid
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec

from servicekit import events
from servicekit.authorizer import Caller
from servicekit.bodies import Model
from servicekit.clock import clock
from servicekit.correlation import correlation_id
from servicekit.dynamo import deserialize

from . import metrics, tokens
from .errors import WrongPasswordError
from .store import ErasureItem, UserGoneError, auth_store

# The erasure's record stays this long (the stream holds it 24 hours; this is housekeeping).
RECORD_TTL_S = 7 * 24 * 3600


class ErasureRequest(Model):
    """``POST /users/me/erasure``: the account's password, again."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class Erasure(Model):
    """An erasure under way."""

    user_id: str
    status: Literal["erasing"]


def erase(caller: Caller, request: ErasureRequest, address: str) -> Erasure:
    """Erase the caller's account; 403 on a wrong password (a failed login), 429 when locked out.

    A token of a user already erased (a retry whose answer was lost) gets the same 202:
    the erasure it asks for is under way.
    """
    caller.require_user()
    store = auth_store()
    user = store.user(caller.subject)
    if user is None:
        if store.erasure(caller.subject) is not None:
            return Erasure(user_id=caller.subject, status="erasing")
        raise WrongPasswordError("The password is wrong.")
    tokens.check_password(user["username"], request.password, address, lambda: user)
    now = clock().timestamp()
    record: ErasureItem = {
        "pk": f"erasure#{user['user_id']}",
        "user_id": user["user_id"],
        "erasure_id": uuid.uuid4().hex,
        "correlation_id": correlation_id() or uuid.uuid4().hex,
        "requested_at": round(now, 3),
        "expires_at": int(now) + RECORD_TTL_S,
    }
    try:
        store.erase_user(user, record)
    except UserGoneError:
        pass  # a concurrent erasure of the same user won: it is under way
    metrics.count(metrics.ERASURES_REQUESTED)
    return Erasure(user_id=user["user_id"], status="erasing")


def event(record: ErasureItem) -> events.UserErased:
    """The event an erasure's record becomes."""
    return events.UserErased(
        user_id=record["user_id"],
        erasure_id=record["erasure_id"],
        correlation_id=record["correlation_id"],
        requested_at=float(record["requested_at"]),
    )


def publish(records: Iterable[Any]) -> None:
    """Publish the ``UserErased`` event of each erasure record in a batch of the stream (Chalice's ``DynamoDBRecord``).

    Every other change of the table (logins, counters, refresh tokens) passes by unread. An
    error propagates: Lambda delivers the batch again, so each event is published at least once.
    """
    for record in records:
        if record.event_name != "INSERT" or not record.keys.get("pk", {}).get("S", "").startswith("erasure#"):
            continue
        events.publish(event(deserialize(record.new_image)))  # type: ignore[arg-type]
