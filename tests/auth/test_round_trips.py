"""What each auth request costs in DynamoDB calls, counted through botocore's event hooks.

Each call has a reason docs/capacity.md gives ("DynamoDB calls per request"). Anything
that hashes a password first spends one unit of its address's budget (one write).
Registration is then one transaction. A login counts the attempt before checking the
password, from its address (one write opening the window) and among all addresses (one
write opening that window), reads the username's claim and then the user, and on success
clears the address's count, takes back its count among all addresses and starts the
refresh-token family in one transaction; a refresh reads the token and rotates it in one
transaction; a revocation reads the token to find its family and marks the family
revoked; a service's login counts like a user's, reads the client, clears and takes back.
"""

from __future__ import annotations

import json
from typing import Any

from tests.auth.conftest import login, post, refresh, register
from tests.support import services

# The address's budget, the count from that address, the count from all addresses.
COUNTED = ["UpdateItem", "UpdateItem", "UpdateItem"]


def test_registering_spends_the_addresss_budget_and_is_one_transaction(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)

    assert dynamodb_calls == ["UpdateItem", "TransactWriteItems"]


def test_a_password_login_counts_reads_clears_and_starts_a_family(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    dynamodb_calls.clear()

    assert login(auth).status_code == 200

    assert dynamodb_calls == [*COUNTED, "GetItem", "GetItem", "DeleteItem", "UpdateItem", "TransactWriteItems"]


def test_a_failed_login_counts_and_reads_only(auth: Any, dynamodb_calls: list[str]) -> None:
    register(auth)
    dynamodb_calls.clear()

    assert login(auth, password="not the password at all").status_code == 400

    assert dynamodb_calls == [*COUNTED, "GetItem", "GetItem"]


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

    assert dynamodb_calls == [*COUNTED, "GetItem", "DeleteItem", "UpdateItem"]


def test_the_jwks_needs_no_table(auth: Any, dynamodb_calls: list[str]) -> None:
    assert auth.http.get("/.well-known/jwks.json").status_code == 200

    assert dynamodb_calls == []
