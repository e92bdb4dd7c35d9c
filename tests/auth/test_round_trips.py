"""What each auth request costs in DynamoDB calls, counted through botocore's event hooks.

Registration is one call. The token routes make more, each for a reason
docs/capacity.md gives ("DynamoDB calls per request"): a login counts the attempt
against the lockout before checking the password, reads the username's claim and then
the user, clears the counter on success and starts the refresh-token family in one
transaction; a refresh reads the token and rotates it in one transaction; a revocation
reads the token to find its family and marks the family revoked; a service's login
counts the attempt against the client's lockout, reads the client, clears the count.
"""

from __future__ import annotations

import json
from typing import Any

from tests.auth.conftest import login, post, refresh, register
from tests.support import services


def test_registering_is_one_transaction(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)

    assert dynamodb_calls == ["TransactWriteItems"]


def test_a_password_login_counts_reads_clears_and_starts_a_family(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    dynamodb_calls.clear()

    assert login(auth).status_code == 200

    assert dynamodb_calls == ["UpdateItem", "GetItem", "GetItem", "DeleteItem", "TransactWriteItems"]


def test_a_failed_login_counts_and_reads_only(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    dynamodb_calls.clear()

    assert login(auth, password="not the password at all").status_code == 400

    assert dynamodb_calls == ["UpdateItem", "GetItem", "GetItem"]


def test_a_refresh_reads_the_token_and_rotates_it_in_one_transaction(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    tokens = json.loads(login(auth).body)
    dynamodb_calls.clear()

    assert refresh(auth, tokens["refresh_token"]).status_code == 200

    assert dynamodb_calls == ["GetItem", "TransactWriteItems"]


def test_a_revocation_reads_the_token_and_revokes_its_family(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    tokens = json.loads(login(auth).body)
    dynamodb_calls.clear()

    assert post(auth, "/token/revoke", {"refresh_token": tokens["refresh_token"]}).status_code == 200

    assert dynamodb_calls == ["GetItem", "UpdateItem"]


def test_a_service_login_counts_reads_and_clears_like_a_users(auth: Any, dynamodb_calls: list[str]) -> None:
    with services.load("auth").environment():
        secret = services.load("auth").module("clients").create_client("profile-service", "location:read")
    dynamodb_calls.clear()

    grant = {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": secret}
    assert post(auth, "/token", grant).status_code == 200

    assert dynamodb_calls == ["UpdateItem", "GetItem", "DeleteItem"]


def test_the_jwks_needs_no_table(auth: Any, dynamodb_calls: list[str]) -> None:
    assert auth.http.get("/.well-known/jwks.json").status_code == 200

    assert dynamodb_calls == []
