"""POST /users/me/erasure: the account gone at once here, and its UserErased event published from the table's stream."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from servicekit import events
from tests.auth.conftest import PASSWORD, assert_oauth_error, login, post, refresh, register
from tests.support import events as plumbing_support
from tests.support import services, tokens
from tests.support.services import json_body

REGION = "us-east-1"


def erase(client: Any, token: str, password: str = PASSWORD, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(
        "/users/me/erasure",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", **(headers or {})},
        body=json.dumps({"password": password}),
    )


def test_an_erased_user_cannot_log_in_or_refresh_and_the_username_is_free_again(
    auth: Any, alice: dict[str, Any]
) -> None:
    # WHEN
    response = erase(auth, alice["tokens"]["access_token"])
    # THEN
    assert response.status_code == 202, response.body
    assert json_body(response) == {"user_id": alice["user"]["user_id"], "status": "erasing"}
    assert_oauth_error(login(auth), 400, "invalid_grant")
    assert_oauth_error(refresh(auth, alice["tokens"]["refresh_token"]), 400, "invalid_grant")
    again = register(auth)
    assert again["user_id"] != alice["user"]["user_id"]


def test_a_retried_erasure_whose_answer_was_lost_gets_the_same_202(auth: Any, alice: dict[str, Any]) -> None:
    assert erase(auth, alice["tokens"]["access_token"]).status_code == 202
    response = erase(auth, alice["tokens"]["access_token"], password="anything at all now")
    assert response.status_code == 202, response.body


def test_a_wrong_password_is_403_and_counts_as_a_failed_login(auth: Any, alice: dict[str, Any]) -> None:
    token = alice["tokens"]["access_token"]
    for _ in range(5):
        response = erase(auth, token, password="not the password at all")
        assert response.status_code == 403, response.body
        assert json_body(response)["Code"] == "WrongPasswordError"
    # THEN the username is locked from this address, for logins and erasures alike
    assert erase(auth, token).status_code == 429
    assert_oauth_error(login(auth), 429, "login_locked")


def test_a_service_clients_token_or_a_bad_body_erases_nothing(auth: Any, alice: dict[str, Any], key_ring: Any) -> None:
    service = tokens.sign(key_ring, tokens.claims("client:profile-service", scope="location:read"))
    assert erase(auth, service).status_code == 403
    bad = auth.http.post(
        "/users/me/erasure",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {alice['tokens']['access_token']}"},
        body=json.dumps({"password": PASSWORD, "also": 1}),
    )
    assert bad.status_code == 400
    assert login(auth).status_code == 200


def test_the_erasure_is_published_from_the_tables_stream_with_its_correlation_id(
    auth: Any, alice: dict[str, Any], plumbing: Any, boto_session: boto3.session.Session
) -> None:
    # GIVEN an erasure
    erase(auth, alice["tokens"]["access_token"], headers={"X-Correlation-Id": "erasure-of-alice"})
    stream = plumbing_support.stream(boto_session, REGION, auth)
    # WHEN the stream's records reach the publishing function (once, and once more: at least once)
    assert stream.deliver() > 0
    # THEN every subscriber's queue holds the event
    for service in plumbing.queues:
        (body,) = plumbing.bodies(service)
        event = events.decode(body)
        assert (event.user_id, event.correlation_id) == (alice["user"]["user_id"], "erasure-of-alice")


def test_other_changes_of_the_table_publish_nothing(
    auth: Any, plumbing: Any, boto_session: boto3.session.Session
) -> None:
    register(auth, "bob")
    assert login(auth, "bob").status_code == 200
    post(auth, "/token", {"grant_type": "password", "username": "bob", "password": "wrong password here"})
    plumbing_support.stream(boto_session, REGION, auth).deliver()
    assert all(not plumbing.bodies(service) for service in plumbing.queues)


def test_a_login_whose_user_is_erased_while_it_checks_the_password_starts_no_login(
    auth: Any, alice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the erasure lands between the login's password check and its new refresh-token family
    tokens_module = services.load("auth").module("tokens")
    check_password = tokens_module.authenticate_user

    def erased_meanwhile(*args: Any) -> Any:
        user = check_password(*args)
        assert erase(auth, alice["tokens"]["access_token"]).status_code == 202
        return user

    monkeypatch.setattr(tokens_module, "authenticate_user", erased_meanwhile)

    # THEN the login is refused as a wrong password would be (not a 500), and issues nothing
    assert_oauth_error(login(auth), 400, "invalid_grant")
