"""The profile service's consumer of UserErased: the profile and its page gone, and no write brings them back."""

from __future__ import annotations

import time
from typing import Any

from servicekit import events
from tests.profile.conftest import delete, get, put

SERVICE = "profile"


def user_erased(user_id: str) -> str:
    return events.encode(
        events.UserErased(user_id=user_id, erasure_id="e1", correlation_id="erasure-1", requested_at=time.time())
    )


def test_the_profile_and_its_page_are_gone_after_the_event_delivered_twice(
    profile: Any, existing: dict[str, Any], user_id: str, plumbing: Any
) -> None:
    source = plumbing.source(SERVICE, profile)
    plumbing.send(SERVICE, user_erased(user_id))
    plumbing.send(SERVICE, user_erased(user_id))
    assert source.deliver() == 1 and source.deliver() == 1
    assert get(profile, user_id).status_code == 404
    assert profile.http.get(f"/pages/{user_id}").status_code == 404
    assert plumbing.bodies(SERVICE) == [] and plumbing.bodies(SERVICE, dead=True) == []


def test_writes_with_the_erased_users_token_after_the_event_are_refused(
    profile: Any, user_id: str, token: str, plumbing: Any
) -> None:
    plumbing.send(SERVICE, user_erased(user_id))
    plumbing.source(SERVICE, profile).deliver()
    response = put(profile, user_id, {"display_name": "Alice again"}, token)
    assert response.status_code == 403, response.body
    assert put(profile, user_id, {"display_name": "x"}, token, headers={"If-Match": "*"}).status_code == 403
    assert delete(profile, user_id, token).status_code == 404
    assert get(profile, user_id).status_code == 404
