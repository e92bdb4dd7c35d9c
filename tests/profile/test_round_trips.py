"""What each profile request costs in calls to other systems: DynamoDB, the location service, auth.

Counted where the calls leave: botocore's event hooks on the DynamoDB client, and the
stand-in HTTP server that plays the auth and location services.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.profile.conftest import delete, get, put
from tests.profile.upstream import FakeUpstream

# How long the location stand-in holds its answer for the table read: far longer than it takes.
GATE_WAIT_S = 3.0


def test_a_profile_read_is_one_table_read_and_one_location_call(
    profile: Any, upstream: FakeUpstream, user_id: str, existing: dict[str, Any], dynamodb_calls: list[str]
) -> None:
    # GIVEN a warm process (the service token already fetched by the write)
    upstream.location(user_id)
    tokens_before, locations_before = upstream.token_calls, upstream.location_calls
    dynamodb_calls.clear()

    # WHEN the profile is read
    response = get(profile, user_id)

    # THEN one DynamoDB read, one location call, and nothing asked of auth
    assert json.loads(response.body)["location_status"] == "ok"
    assert dynamodb_calls == ["GetItem"]
    assert upstream.location_calls - locations_before == 1
    assert upstream.token_calls == tokens_before


def test_the_table_read_happens_while_the_location_call_is_in_flight(
    profile: Any, upstream: FakeUpstream, user_id: str, existing: dict[str, Any], aws: Any
) -> None:
    # GIVEN a location service that answers only once the profile's table read has been made
    upstream.location(user_id)
    table_read, opened = threading.Event(), []
    upstream.on_location_request = lambda: opened.append(table_read.wait(GATE_WAIT_S))
    aws.meta.events.register("after-call.dynamodb.GetItem", lambda **_: table_read.set())

    # WHEN the profile is read
    response = get(profile, user_id)

    # THEN the location call was still open when the read was made: the two ran in parallel
    assert opened == [True]
    assert json.loads(response.body)["location_status"] == "ok"


def test_no_call_to_auth_while_the_service_token_is_valid(
    profile: Any, upstream: FakeUpstream, user_id: str, existing: dict[str, Any]
) -> None:
    upstream.location(user_id)

    for _ in range(5):
        get(profile, user_id)

    assert upstream.token_calls == 1


def test_a_profile_write_is_one_table_write(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str, dynamodb_calls: list[str]
) -> None:
    # The answer embeds the location like a read does: one location call besides the write.
    response = put(profile, user_id, {"display_name": "Alice"}, token)

    assert response.status_code == 200
    assert dynamodb_calls == ["UpdateItem"]
    assert upstream.location_calls == 1


def test_a_profile_delete_is_one_table_write(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str, existing: dict[str, Any], dynamodb_calls: list[str]
) -> None:
    dynamodb_calls.clear()
    locations_before = upstream.location_calls

    response = delete(profile, user_id, token)

    assert response.status_code == 204
    assert dynamodb_calls == ["DeleteItem"]
    assert upstream.location_calls == locations_before
