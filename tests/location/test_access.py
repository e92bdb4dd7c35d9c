"""Who may PUT, GET and DELETE a location: the owner, and a reader service for GET only.

The system this replaces let any valid token overwrite anyone's location; every
refusal here also checks that nothing changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.location.conftest import (
    ALICE,
    BOB,
    JSON,
    PROFILE_SERVICE,
    SAN_FRANCISCO,
    delete,
    get,
    path,
    put,
    stored,
)
from tests.support import tokens
from tests.support.services import json_body
from tests.support.tokens import json_headers_for

PARIS = {"latitude": 48.8566, "longitude": 2.3522, "city": "Paris", "country": "FR"}


def _refused(response: Any) -> None:
    assert response.status_code == 403
    body = json_body(response)
    assert body["Code"] == "ForbiddenError"
    assert body["Message"]


# Another user's token


def test_putting_another_users_location_is_forbidden(location: Any, alice: dict[str, str], bob: dict[str, str]) -> None:
    # GIVEN Bob's location
    before = stored(location, BOB, bob)

    # WHEN Alice overwrites it
    response = put(location, BOB, PARIS, alice)

    # THEN she is refused and Bob's location is as it was
    _refused(response)
    assert json_body(response)["Message"] == "You may only act on your own resources."
    assert json_body(get(location, BOB, bob)) == before


def test_putting_a_location_for_a_user_who_has_none_is_forbidden_too(
    location: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    _refused(put(location, BOB, PARIS, alice))

    assert get(location, BOB, bob).status_code == 404


def test_reading_another_users_location_is_forbidden(location: Any, alice: dict[str, str], bob: dict[str, str]) -> None:
    stored(location, BOB, bob)

    response = get(location, BOB, alice)

    _refused(response)
    assert "latitude" not in response.body.decode()


def test_deleting_another_users_location_is_forbidden(
    location: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    before = stored(location, BOB, bob)

    _refused(delete(location, BOB, alice))

    assert json_body(get(location, BOB, bob)) == before


def test_refusal_comes_before_the_body_is_read(location: Any, alice: dict[str, str]) -> None:
    # A stranger learns nothing from validation errors: 403, not 400.
    _refused(put(location, BOB, b"{not json", alice))


# Scopes


def test_a_service_with_location_read_may_read_anyones_location(
    location: Any, bob: dict[str, str], profile_service: dict[str, str]
) -> None:
    written = stored(location, BOB, bob)

    response = get(location, BOB, profile_service)

    assert response.status_code == 200
    assert json_body(response) == written


def test_a_service_with_location_read_gets_a_404_for_a_user_without_one(
    location: Any, profile_service: dict[str, str]
) -> None:
    response = get(location, BOB, profile_service)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "LocationNotFoundError"


@pytest.mark.parametrize("user_id", ["not-a-uuid", BOB.upper(), "x" * 3000])
def test_a_reader_asking_for_an_id_that_is_no_user_id_gets_a_404(
    location: Any, profile_service: dict[str, str], user_id: str
) -> None:
    response = get(location, user_id, profile_service)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "LocationNotFoundError"


def test_a_service_with_location_read_may_not_put(
    location: Any, bob: dict[str, str], profile_service: dict[str, str]
) -> None:
    before = stored(location, BOB, bob)

    _refused(put(location, BOB, PARIS, profile_service))

    assert json_body(get(location, BOB, bob)) == before


def test_a_service_with_location_read_may_not_delete(
    location: Any, bob: dict[str, str], profile_service: dict[str, str]
) -> None:
    before = stored(location, BOB, bob)

    _refused(delete(location, BOB, profile_service))

    assert json_body(get(location, BOB, bob)) == before


def test_a_user_token_holding_location_read_may_not_read_another_users_location(
    location: Any, bob: dict[str, str], key_ring: Any
) -> None:
    # The contract lets a *service* with location:read read anyone's location, not a user.
    stored(location, BOB, bob)
    user_with_read_scope = json_headers_for(key_ring, ALICE, scope="location:read location:write")

    response = get(location, BOB, user_with_read_scope)

    _refused(response)
    assert "latitude" not in response.body.decode()


def test_a_service_without_location_read_may_not_read(location: Any, bob: dict[str, str], key_ring: Any) -> None:
    stored(location, BOB, bob)
    other_service = json_headers_for(key_ring, "client:reporting", scope="profile:read")

    _refused(get(location, BOB, other_service))


def test_a_user_token_without_location_write_cannot_put(location: Any, key_ring: Any) -> None:
    narrowed = json_headers_for(key_ring, ALICE, scope="profile:write")

    response = put(location, ALICE, SAN_FRANCISCO, narrowed)

    _refused(response)
    assert json_body(response)["Message"] == "This requires the scope location:write."
    assert get(location, ALICE, narrowed).status_code == 404


def test_a_user_token_without_location_write_cannot_delete(location: Any, alice: dict[str, str], key_ring: Any) -> None:
    # Our choice where the contract is silent: deleting is a write.
    before = stored(location, ALICE, alice)
    narrowed = json_headers_for(key_ring, ALICE, scope="profile:write")

    _refused(delete(location, ALICE, narrowed))

    assert json_body(get(location, ALICE, alice)) == before


def test_the_owner_reads_their_own_location_whatever_the_scopes(
    location: Any, alice: dict[str, str], key_ring: Any
) -> None:
    written = stored(location, ALICE, alice)
    narrowed = json_headers_for(key_ring, ALICE, scope="profile:write")

    assert json_body(get(location, ALICE, narrowed)) == written


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_service_client_cannot_own_a_location(location: Any, key_ring: Any, method: str) -> None:
    # Even a client holding location:write, at the path of its own subject.
    service = json_headers_for(key_ring, PROFILE_SERVICE, scope="location:read location:write")

    response = location.http.request(
        method, path(PROFILE_SERVICE), headers=service, body=b'{"latitude": 1, "longitude": 1}'
    )

    assert response.status_code == 403
    assert json_body(response)["Code"] == "NotAUserError"


# Tokens


ROUTES = [("PUT", b'{"latitude": 1, "longitude": 1}'), ("GET", b""), ("DELETE", b"")]


@pytest.mark.parametrize(("method", "body"), ROUTES, ids=[m for m, _ in ROUTES])
def test_a_missing_token_is_a_401(location: Any, alice: dict[str, str], method: str, body: bytes) -> None:
    before = stored(location, ALICE, alice)

    response = location.http.request(method, path(ALICE), headers=JSON, body=body)

    assert response.status_code == 401
    assert json_body(response) == {"message": "Unauthorized"}
    assert json_body(get(location, ALICE, alice)) == before


FORGERIES: list[Any] = [
    pytest.param(lambda ring: tokens.tampered(ring.sign(tokens.claims(BOB))), id="tampered"),
    pytest.param(lambda ring: tokens.alg_none(tokens.claims(ALICE), ring.active), id="alg none"),
    pytest.param(lambda ring: tokens.hs256_with_public_key(ring, tokens.claims(ALICE)), id="hs256"),
    pytest.param(lambda ring: tokens.unknown_key(tokens.claims(ALICE)), id="unknown kid"),
    pytest.param(lambda ring: ring.sign(tokens.claims(ALICE, exp=int(time.time()) - 60)), id="expired"),
    pytest.param(lambda ring: ring.sign(tokens.claims(ALICE, aud="urn:someone-else")), id="wrong audience"),
    pytest.param(lambda ring: "not.a.jwt", id="malformed"),
]


@pytest.mark.parametrize(("method", "body"), ROUTES, ids=[m for m, _ in ROUTES])
@pytest.mark.parametrize("forge", FORGERIES)
def test_an_invalid_token_is_a_403_and_changes_nothing(
    location: Any, alice: dict[str, str], key_ring: Any, forge: Callable[[Any], str], method: str, body: bytes
) -> None:
    before = stored(location, ALICE, alice)

    response = location.http.request(method, path(ALICE), headers={**JSON, **tokens.bearer(forge(key_ring))}, body=body)

    assert response.status_code == 403
    assert "latitude" not in response.body.decode()
    assert json_body(get(location, ALICE, alice)) == before
