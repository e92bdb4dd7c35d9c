"""GET, PUT and DELETE /profiles/{user_id}: the contract's routes, errors, ownership and scopes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.profile.conftest import delete, get, put
from tests.profile.upstream import FakeUpstream
from tests.support import tokens
from tests.support.services import json_body

PROFILE_FIELDS = {"user_id", "display_name", "bio", "location", "location_status", "updated_at", "version"}


def test_put_creates_the_profile_at_version_1(profile: Any, user_id: str, token: str) -> None:
    response = put(profile, user_id, {"display_name": "Alice", "bio": "Hello."}, token)

    assert response.status_code == 200
    body = json_body(response)
    assert set(body) == PROFILE_FIELDS
    assert body["user_id"] == user_id
    assert body["display_name"] == "Alice"
    assert body["bio"] == "Hello."
    assert body["version"] == 1
    assert body["updated_at"].endswith("Z")
    assert response.headers["ETag"] == '"1"'


def test_get_returns_the_profile_with_its_etag(profile: Any, user_id: str, existing: dict[str, Any]) -> None:
    response = get(profile, user_id)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Content-Type"] == "application/json"
    body = json_body(response)
    assert set(body) == PROFILE_FIELDS
    assert {k: body[k] for k in ("display_name", "bio", "version")} == {
        "display_name": "Alice",
        "bio": "Hello.",
        "version": 1,
    }


def test_get_is_public(profile: Any, user_id: str, existing: dict[str, Any]) -> None:
    assert get(profile, user_id).status_code == 200


def test_get_of_a_user_without_profile_is_a_404(profile: Any) -> None:
    response = get(profile, str(uuid.uuid4()))

    assert response.status_code == 404
    assert json_body(response) == {"Code": "ProfileNotFoundError", "Message": "There is no profile for this user."}


@pytest.mark.parametrize("user_id", ["not-a-uuid", "2B1C7E0E-9F0C-4F8A-9B0A-1D2E3F405060", "%3Cscript%3E"])
def test_get_of_something_that_is_not_a_user_id_is_a_404(profile: Any, user_id: str) -> None:
    assert get(profile, user_id).status_code == 404


def test_put_again_replaces_the_profile_and_adds_one_to_the_version(
    profile: Any, user_id: str, token: str, existing: dict[str, Any]
) -> None:
    response = put(profile, user_id, {"display_name": "Alice B."}, token)

    body = json_body(response)
    assert response.status_code == 200
    assert body["display_name"] == "Alice B."
    assert body["bio"] is None  # PUT replaces: an omitted bio is cleared
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert json_body(get(profile, user_id)) == body


def test_put_accepts_an_explicit_null_bio(profile: Any, user_id: str, token: str) -> None:
    response = put(profile, user_id, {"display_name": "Alice", "bio": None}, token)

    assert response.status_code == 200
    assert json_body(response)["bio"] is None


def test_put_answers_with_the_location_as_get_does(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str
) -> None:
    upstream.location(user_id)

    body = json_body(put(profile, user_id, {"display_name": "Alice"}, token))

    assert body["location_status"] == "ok"
    assert body["location"]["city"] == "Berlin"
    assert "version" not in body["location"]


def test_delete_removes_the_profile(profile: Any, user_id: str, token: str, existing: dict[str, Any]) -> None:
    response = delete(profile, user_id, token)

    assert response.status_code == 204
    assert response.body == b""
    assert get(profile, user_id).status_code == 404


def test_delete_of_a_missing_profile_is_a_404(profile: Any, user_id: str, token: str) -> None:
    response = delete(profile, user_id, token)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "ProfileNotFoundError"


def test_a_profile_deleted_and_written_again_starts_at_version_1(
    profile: Any, user_id: str, token: str, existing: dict[str, Any]
) -> None:
    delete(profile, user_id, token)

    assert json_body(put(profile, user_id, {"display_name": "Alice"}, token))["version"] == 1


# Authentication, ownership and scopes


def test_put_without_a_token_is_a_401(profile: Any, user_id: str) -> None:
    response = put(profile, user_id, {"display_name": "Alice"})

    assert response.status_code == 401
    assert json_body(response) == {"message": "Unauthorized"}
    assert get(profile, user_id).status_code == 404


def test_delete_without_a_token_is_a_401(profile: Any, user_id: str, existing: dict[str, Any]) -> None:
    assert delete(profile, user_id).status_code == 401
    assert get(profile, user_id).status_code == 200


@pytest.mark.parametrize("write", ["put", "delete"])
def test_an_invalid_token_is_denied(profile: Any, user_id: str, key_ring: Any, write: str) -> None:
    forged = tokens.tampered(key_ring.sign(tokens.claims(user_id)))

    response = (
        put(profile, user_id, {"display_name": "x"}, forged) if write == "put" else delete(profile, user_id, forged)
    )

    assert response.status_code == 403


def test_put_on_another_users_profile_is_forbidden_and_changes_nothing(
    profile: Any, user_id: str, key_ring: Any, existing: dict[str, Any]
) -> None:
    mallory = key_ring.sign(tokens.claims(str(uuid.uuid4())))

    response = put(profile, user_id, {"display_name": "Pwned"}, mallory)

    assert response.status_code == 403
    assert json_body(response)["Code"] == "ForbiddenError"
    assert json_body(get(profile, user_id)) == existing


def test_refusal_comes_before_the_body_is_read(profile: Any, user_id: str, key_ring: Any) -> None:
    # A stranger learns nothing from validation errors: 403, not 400.
    mallory = key_ring.sign(tokens.claims(str(uuid.uuid4())))

    response = put(profile, user_id, b"{not json", mallory)

    assert response.status_code == 403
    assert json_body(response)["Code"] == "ForbiddenError"


def test_put_creating_another_users_profile_is_forbidden(profile: Any, user_id: str, key_ring: Any) -> None:
    mallory = key_ring.sign(tokens.claims(str(uuid.uuid4())))

    assert put(profile, user_id, {"display_name": "Fake"}, mallory).status_code == 403
    assert get(profile, user_id).status_code == 404


def test_delete_of_another_users_profile_is_forbidden_and_changes_nothing(
    profile: Any, user_id: str, key_ring: Any, existing: dict[str, Any]
) -> None:
    mallory = key_ring.sign(tokens.claims(str(uuid.uuid4())))

    response = delete(profile, user_id, mallory)

    assert response.status_code == 403
    assert json_body(get(profile, user_id)) == existing


@pytest.mark.parametrize("scope", ["location:write", "", "profile:read", "profile:writer"])
def test_put_without_the_profile_write_scope_is_forbidden(
    profile: Any, user_id: str, key_ring: Any, scope: str
) -> None:
    token = key_ring.sign(tokens.claims(user_id, scope=scope))

    response = put(profile, user_id, {"display_name": "Alice"}, token)

    assert response.status_code == 403
    assert "profile:write" in json_body(response)["Message"]
    assert get(profile, user_id).status_code == 404


def test_delete_without_the_profile_write_scope_is_forbidden(
    profile: Any, user_id: str, key_ring: Any, existing: dict[str, Any]
) -> None:
    token = key_ring.sign(tokens.claims(user_id, scope="location:write"))

    assert delete(profile, user_id, token).status_code == 403
    assert get(profile, user_id).status_code == 200


def test_a_service_clients_token_cannot_write_profiles(profile: Any, key_ring: Any) -> None:
    subject = "client:profile-service"
    token = key_ring.sign(tokens.claims(subject, scope="location:read"))

    assert put(profile, subject, {"display_name": "Service"}, token).status_code == 403
    assert delete(profile, subject, token).status_code == 403


@pytest.mark.parametrize("write", ["put", "delete"])
def test_a_service_client_cannot_own_a_profile(profile: Any, key_ring: Any, write: str) -> None:
    # Even a client holding profile:write, at the path of its own subject.
    subject = "client:profile-service"
    token = key_ring.sign(tokens.claims(subject, scope="profile:write location:read"))

    response = (
        put(profile, subject, {"display_name": "Service"}, token) if write == "put" else delete(profile, subject, token)
    )

    assert response.status_code == 403
    assert json_body(response)["Code"] == "NotAUserError"


# Validation


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "display_name", id="display_name missing"),
        pytest.param({"display_name": ""}, "display_name", id="display_name empty"),
        pytest.param({"display_name": "x" * 65}, "display_name", id="display_name 65 characters"),
        pytest.param({"display_name": "   "}, "display_name", id="display_name blank"),
        pytest.param({"display_name": "\u200b"}, "display_name", id="display_name a zero-width space"),
        pytest.param({"display_name": "\u3164\u3164"}, "display_name", id="display_name Hangul fillers"),
        pytest.param({"display_name": "\ufeff\u00ad"}, "display_name", id="display_name BOM and soft hyphen"),
        pytest.param({"display_name": "Alice\u202etxt.exe"}, "display_name", id="display_name a bidi override"),
        pytest.param({"display_name": "Alice\u2066"}, "display_name", id="display_name a bidi isolate"),
        pytest.param({"display_name": "Alice", "bio": "\u202ebio"}, "bio", id="bio a bidi override"),
        pytest.param({"display_name": "Al\nice"}, "display_name", id="display_name with a line break"),
        pytest.param({"display_name": "Al\x00ice"}, "display_name", id="display_name with NUL"),
        pytest.param({"display_name": 42}, "display_name", id="display_name a number"),
        pytest.param({"display_name": None}, "display_name", id="display_name null"),
        pytest.param({"display_name": ["Alice"]}, "display_name", id="display_name a list"),
        pytest.param({"display_name": "Alice", "bio": "x" * 501}, "bio", id="bio 501 characters"),
        pytest.param({"display_name": "Alice", "bio": 7}, "bio", id="bio a number"),
        pytest.param({"display_name": "Alice", "bio": False}, "bio", id="bio a boolean"),
        pytest.param({"display_name": "Alice", "bio": "ding\x07"}, "bio", id="bio with a control character"),
        pytest.param({"display_name": "Alice", "version": 9}, "version", id="unknown field"),
        pytest.param({"display_name": "Alice", "user_id": "someone"}, "user_id", id="user_id in the body"),
    ],
)
def test_an_invalid_body_is_a_400_naming_the_field(
    profile: Any, user_id: str, token: str, body: dict[str, Any], field: str
) -> None:
    response = put(profile, user_id, body, token)

    assert response.status_code == 400
    error = json_body(response)
    assert error["Code"] == "BadRequestError"
    assert field in error["Message"]
    assert get(profile, user_id).status_code == 404


@pytest.mark.parametrize(
    "raw", [b"", b"   ", b"not json", b'{"display_name": "Alice"', b'["Alice"]', b'"Alice"', b"null", b"\xff\xfe"]
)
def test_a_body_that_is_not_a_json_object_is_a_400(profile: Any, user_id: str, token: str, raw: bytes) -> None:
    response = put(profile, user_id, raw, token)

    assert response.status_code == 400
    assert json_body(response)["Code"] == "BadRequestError"


def test_a_body_over_16_kib_is_a_413(profile: Any, user_id: str, token: str) -> None:
    response = put(profile, user_id, {"display_name": "Alice", "bio": "x" * 17_000}, token)

    assert response.status_code == 413
    assert json_body(response)["Code"] == "PayloadTooLargeError"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"display_name": "x"}, id="display_name 1 character"),
        pytest.param({"display_name": "x" * 64}, id="display_name 64 characters"),
        pytest.param({"display_name": "🦊" * 64}, id="display_name 64 emoji"),
        pytest.param({"display_name": "Zoë Ødegård", "bio": "ü" * 500}, id="bio 500 characters"),
        pytest.param({"display_name": "Alice", "bio": ""}, id="bio empty"),
        pytest.param({"display_name": "Alice", "bio": "line one\nline two\r\n\tindented"}, id="bio with line breaks"),
    ],
)
def test_valid_bodies_at_the_limits_are_stored_as_given(
    profile: Any, user_id: str, token: str, body: dict[str, Any]
) -> None:
    response = put(profile, user_id, body, token)

    assert response.status_code == 200, response.body
    stored = json_body(get(profile, user_id))
    assert stored["display_name"] == body["display_name"]
    assert stored["bio"] == body.get("bio")
