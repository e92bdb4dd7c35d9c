"""Who the authorizer let through: user ids and the checks routes make with them."""

from __future__ import annotations

import uuid

import pytest
from chalice import ForbiddenError

from servicekit.authorizer import Caller, NotAUserError, is_user_id

USER = "0f0d0c49-af59-45bc-aaa3-fb080222de7e"


@pytest.mark.parametrize(
    "value",
    [USER.upper(), USER + "\n", " " + USER, USER.replace("-", ""), "client:profile-service", "", "../" + USER],
)
def test_only_a_canonical_lower_case_uuid_is_a_user_id(value: str) -> None:
    assert is_user_id(USER)
    assert not is_user_id(value)


def test_a_service_client_is_not_a_user() -> None:
    with pytest.raises(NotAUserError):
        Caller("client:profile-service", frozenset({"location:read"})).require_user()


def test_the_owner_without_the_scope_is_refused() -> None:
    caller = Caller(USER, frozenset({"location:write"}))

    caller.require_owner(USER, "location:write")
    with pytest.raises(ForbiddenError):
        caller.require_owner(USER, "profile:write")
    with pytest.raises(ForbiddenError):
        caller.require_owner(str(uuid.uuid4()))
