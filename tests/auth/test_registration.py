"""POST /users and GET /users/me."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

import pytest

from tests.auth.conftest import JSON, PASSWORD, login, post, register
from tests.support import services
from tests.support.services import json_body
from tests.support.threads import at_once
from tests.support.tokens import bearer


def test_register_returns_the_new_user(auth: Any) -> None:
    response = post(auth, "/users", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 201
    body = json_body(response)
    assert set(body) == {"user_id", "username", "created_at"}
    assert uuid.UUID(body["user_id"]).version == 4
    assert body["username"] == "alice"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["created_at"])


def test_username_is_lower_cased_and_then_unique(auth: Any) -> None:
    assert register(auth, "Alice")["username"] == "alice"

    response = post(auth, "/users", {"username": "ALICE", "password": PASSWORD})

    assert response.status_code == 409
    assert json_body(response)["Code"] == "UsernameTakenError"


def test_password_is_stored_only_as_an_argon2id_hash(auth: Any, aws: Any) -> None:
    user = register(auth)

    item = aws.get_item(TableName="auth-local", Key={"pk": {"S": f"user#{user['user_id']}"}})["Item"]

    stored = item["password_hash"]["S"]
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in json.dumps(item)


def test_concurrent_registrations_of_one_username_create_exactly_one_user(auth: Any) -> None:
    results = at_once(8, lambda _: post(auth, "/users", {"username": "racer", "password": PASSWORD}).status_code)

    assert sorted(results) == [201] + [409] * 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "al", "password": PASSWORD}, "username"),
        ({"username": "a" * 33, "password": PASSWORD}, "username"),
        ({"username": "_alice", "password": PASSWORD}, "username"),
        ({"username": "ali ce", "password": PASSWORD}, "username"),
        ({"username": "alice\n", "password": PASSWORD}, "username"),
        ({"username": "\u212aelvin", "password": PASSWORD}, "username"),  # the Kelvin sign lower-cases to "k"
        ({"username": 42, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "short"}, "password"),
        ({"username": "alice", "password": "p" * 129}, "password"),
        ({"username": "alice", "password": True}, "password"),
        ({"username": "alice1234567", "password": "ALICE1234567"}, "password"),
        ({"username": "alice", "password": PASSWORD, "admin": True}, "admin"),
    ],
)
def test_invalid_registration_is_a_400_naming_the_field(auth: Any, body: dict[str, Any], field: str) -> None:
    response = post(auth, "/users", body)

    assert response.status_code == 400
    assert json_body(response)["Code"] == "BadRequestError"
    assert f"{field}`" in json_body(response)["Message"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'"alice"'])
def test_a_body_that_is_not_a_json_object_is_a_400(auth: Any, raw: bytes) -> None:
    response = auth.http.post("/users", headers=JSON, body=raw)

    assert response.status_code == 400
    assert json_body(response)["Code"] == "BadRequestError"


def test_a_body_over_16_kib_is_a_413(auth: Any) -> None:
    response = post(auth, "/users", {"username": "alice", "password": PASSWORD, "padding": "x" * 16384})

    assert response.status_code == 413
    assert json_body(response)["Code"] == "PayloadTooLargeError"


def test_me_returns_the_token_owner(auth: Any, alice: dict[str, Any]) -> None:
    response = auth.http.get("/users/me", headers=bearer(alice["tokens"]["access_token"]))

    assert response.status_code == 200
    assert json_body(response) == alice["user"]


def test_me_without_a_token_is_a_401(auth: Any) -> None:
    assert auth.http.get("/users/me").status_code == 401


def test_me_with_a_service_token_is_a_403(auth: Any, key_ring: Any) -> None:
    from tests.support.tokens import claims

    token = key_ring.sign(claims("client:profile-service", scope="location:read"))

    response = auth.http.get("/users/me", headers=bearer(token))

    assert response.status_code == 403
    assert json_body(response)["Code"] == "NotAUserError"


@pytest.mark.parametrize("password", ["123456789012", "qwertyuiop123", "passwordpassword", "iloveyou1234"])
def test_a_common_password_is_refused_with_a_400_that_says_so(auth: Any, password: str) -> None:
    response = post(auth, "/users", {"username": "alice", "password": password})

    assert response.status_code == 400
    assert "commonly used" in json_body(response)["Message"]
    assert "password`" in json_body(response)["Message"]


def test_twelve_spaces_are_refused_with_a_clear_400(auth: Any) -> None:
    response = post(auth, "/users", {"username": "alice", "password": " " * 12})

    assert response.status_code == 400
    assert "only spaces" in json_body(response)["Message"]


def test_a_password_registered_composed_logs_in_typed_decomposed(auth: Any) -> None:
    composed = unicodedata.normalize("NFC", "Crème brûlée à Zürich")
    register(auth, "alice", composed)

    response = login(auth, "alice", unicodedata.normalize("NFD", composed))

    assert response.status_code == 200, response.body


def test_an_account_hashed_before_normalisation_still_logs_in_and_is_rehashed(auth: Any, aws: Any) -> None:
    # GIVEN a user whose hash is of the password as typed, decomposed (made before revision 3)
    typed = unicodedata.normalize("NFD", "Crème brûlée à Zürich")
    user = register(auth, "alice", typed)
    passwords = services.load("auth").module("passwords")
    key = {"pk": {"S": f"user#{user['user_id']}"}}
    aws.update_item(
        TableName="auth-local",
        Key=key,
        UpdateExpression="SET password_hash = :h",
        ExpressionAttributeValues={":h": {"S": passwords.hasher().hash(typed)}},
    )

    # WHEN they log in as they always typed it
    response = login(auth, "alice", typed)

    # THEN they get in, and the hash is now of the normalised password
    assert response.status_code == 200, response.body
    rehashed = aws.get_item(TableName="auth-local", Key=key)["Item"]["password_hash"]["S"]
    assert passwords.hasher().verify(rehashed, unicodedata.normalize("NFKC", typed))
