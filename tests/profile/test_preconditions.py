"""Optimistic concurrency: ETags, If-Match on PUT, and concurrent writers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.profile.conftest import get, own_fields, put
from tests.support.services import json_body
from tests.support.threads import at_once, interleaved

WRITERS = 20


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"1"', id="the current version"),
        pytest.param(' "1" ', id="with spaces"),
        pytest.param('"7", "1"', id="a list holding the current version"),
        pytest.param('W/"1", "1"', id="a weak tag and the strong current one"),
        pytest.param('"1",, "9"', id="a list with an empty element"),
        pytest.param("*", id="any existing profile"),
    ],
)
def test_put_with_a_matching_if_match_writes(
    profile: Any, user_id: str, token: str, existing: dict[str, Any], if_match: str
) -> None:
    response = put(profile, user_id, {"display_name": "Alice B."}, token, {"If-Match": if_match})

    assert response.status_code == 200, response.body
    assert json_body(response)["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert json_body(get(profile, user_id))["display_name"] == "Alice B."


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"2"', id="another version"),
        pytest.param('"0"', id="version 0"),
        pytest.param('"2", "3"', id="a list without the current version"),
        pytest.param('W/"1"', id="a weak tag (If-Match compares strongly)"),
        pytest.param('"01"', id="not the canonical tag"),
        pytest.param('"abc"', id="a tag that is no version"),
        pytest.param('""', id="the empty tag"),
        pytest.param('"99999999999999999999999"', id="a huge number"),
    ],
)
def test_put_with_a_mismatching_if_match_is_a_412_and_writes_nothing(
    profile: Any, user_id: str, token: str, existing: dict[str, Any], if_match: str
) -> None:
    response = put(profile, user_id, {"display_name": "Lost update"}, token, {"If-Match": if_match})

    assert response.status_code == 412
    assert json_body(response)["Code"] == "VersionMismatchError"
    assert own_fields(json_body(get(profile, user_id))) == own_fields(existing)


@pytest.mark.parametrize("if_match", ['"1"', "*", '"1", "2"', 'W/"1"'])
def test_put_with_if_match_on_a_missing_profile_is_a_412_and_creates_nothing(
    profile: Any, user_id: str, token: str, if_match: str
) -> None:
    response = put(profile, user_id, {"display_name": "Alice"}, token, {"If-Match": if_match})

    assert response.status_code == 412
    assert json_body(response)["Code"] == "VersionMismatchError"
    assert get(profile, user_id).status_code == 404


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param("1", id="unquoted"),
        pytest.param('"1', id="unterminated quote"),
        pytest.param("W/1", id="unquoted weak tag"),
        pytest.param('*, "1"', id="star in a list"),
        pytest.param('"1" "2"', id="tags without a comma"),
        pytest.param("", id="empty"),
        pytest.param(",", id="only a comma"),
        pytest.param('"a b"', id="a space inside the tag"),
        pytest.param(", ".join(['"1"'] * 33), id="more than 32 tags"),
    ],
)
def test_a_malformed_if_match_is_a_400_naming_the_header(
    profile: Any, user_id: str, token: str, existing: dict[str, Any], if_match: str
) -> None:
    response = put(profile, user_id, {"display_name": "Alice B."}, token, {"If-Match": if_match})

    assert response.status_code == 400
    error = json_body(response)
    assert error["Code"] == "InvalidIfMatchError"
    assert "If-Match" in error["Message"]
    assert own_fields(json_body(get(profile, user_id))) == own_fields(existing)


def test_the_etag_of_one_answer_is_the_if_match_of_the_next_write(
    profile: Any, user_id: str, token: str, existing: dict[str, Any]
) -> None:
    etag = get(profile, user_id).headers["ETag"]
    first = put(profile, user_id, {"display_name": "First"}, token, {"If-Match": etag})

    second = put(profile, user_id, {"display_name": "Second"}, token, {"If-Match": etag})

    assert first.status_code == 200
    assert second.status_code == 412
    assert json_body(get(profile, user_id))["display_name"] == "First"


def test_concurrent_writers_without_if_match_lose_no_increment(
    profile: Any, user_id: str, token: str, existing: dict[str, Any]
) -> None:
    # GIVEN a warm service (chalice.test.Client swaps os.environ on every request: the
    # settings must have been read once before threads race)
    assert get(profile, user_id).status_code == 200

    # WHEN twenty writers PUT at the same time, none with If-Match
    with interleaved():
        responses = at_once(WRITERS, lambda i: put(profile, user_id, {"display_name": f"Writer {i}"}, token))

    # THEN every write counted, each with a version of its own
    assert [response.status_code for response in responses] == [200] * WRITERS
    versions = sorted(json_body(response)["version"] for response in responses)
    assert versions == list(range(existing["version"] + 1, existing["version"] + WRITERS + 1))
    assert json_body(get(profile, user_id))["version"] == existing["version"] + WRITERS


def test_of_concurrent_writers_with_the_same_if_match_exactly_one_wins(
    profile: Any, user_id: str, token: str, existing: dict[str, Any]
) -> None:
    # GIVEN a warm service
    assert get(profile, user_id).status_code == 200

    # WHEN twenty writers PUT at the same time, each with If-Match: "1"
    with interleaved():
        responses = at_once(
            WRITERS, lambda i: put(profile, user_id, {"display_name": f"Writer {i}"}, token, {"If-Match": '"1"'})
        )

    # THEN one of them wrote version 2 and every other one got 412
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (WRITERS - 1), [(r.status_code, r.body) for r in responses]
    assert json_body(get(profile, user_id))["version"] == 2
