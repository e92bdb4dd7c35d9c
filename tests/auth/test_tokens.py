"""POST /token (the three grants), POST /token/revoke and the lockout."""

from __future__ import annotations

import statistics
import time
from typing import Any

import jwt
import pytest

from tests.auth.conftest import PASSWORD, login, post, refresh, register
from tests.support import services
from tests.support.services import json_body
from tests.support.threads import at_once
from tests.support.tokens import AUDIENCE, ISSUER


def _claims(key_ring: Any, token: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    public = key_ring.keys[kid].public_key()
    return jwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)  # type: ignore[no-any-return]


def test_password_login_returns_an_rfc6749_token_response(auth: Any, key_ring: Any) -> None:
    user = register(auth)

    response = login(auth)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = json_body(response)
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "profile:write location:write"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] == key_ring.active
    claims = _claims(key_ring, body["access_token"])
    assert claims["sub"] == user["user_id"]
    assert claims["scope"] == "profile:write location:write"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


def test_login_accepts_the_username_in_any_case(auth: Any) -> None:
    register(auth, "alice")

    assert login(auth, "ALICE").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(auth: Any) -> None:
    register(auth)

    wrong = login(auth, "alice", "not the right password")
    unknown = login(auth, "nobody", PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert json_body(wrong) == json_body(unknown)


def test_wrong_password_and_unknown_user_take_about_the_same_time(auth: Any) -> None:
    register(auth)
    login(auth, "warmup", PASSWORD)

    # The CPU time of the thread that serves the request (chalice.test.Client serves it on
    # the caller's): the work the service does, which other processes on a busy machine
    # do not stretch as they stretch the wall-clock time. Interleaved, so that what they
    # do change (caches, frequency) changes both alike; five tries each, the most a
    # username gets before the lockout answers instead.
    durations: dict[str, list[float]] = {"alice": [], "nobody": []}
    for _ in range(5):
        for username, password in (("alice", "not the right password"), ("nobody", PASSWORD)):
            start = time.thread_time()
            assert login(auth, username, password).status_code == 401
            durations[username].append(time.thread_time() - start)
    wrong, unknown = statistics.median(durations["alice"]), statistics.median(durations["nobody"])

    assert abs(wrong - unknown) < max(wrong, unknown) * 0.5


def test_five_failed_logins_lock_the_username_out_with_retry_after(auth: Any) -> None:
    register(auth)
    for _ in range(5):
        assert login(auth, "alice", "not the right password").status_code == 401

    locked = login(auth, "alice", PASSWORD)

    assert locked.status_code == 429
    assert json_body(locked)["Code"] == "LoginLockedError"
    assert 890 <= int(locked.headers["Retry-After"]) <= 900


def test_concurrent_wrong_passwords_get_no_more_tries_than_the_limit(auth: Any) -> None:
    # GIVEN eight guesses at alice's password sent at the same moment
    register(auth)

    responses = at_once(8, lambda _: login(auth, "alice", "not the right password"))

    # THEN only five were checked; the other three were locked out without a check
    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 3


def test_the_lockout_ends_when_the_window_passes(auth: Any) -> None:
    register(auth)
    clock = services.load("auth").module("tokens").clock
    for _ in range(5):
        login(auth, "alice", "not the right password")

    real = clock()

    class Later:
        def now(self) -> int:
            return real.now() + 901

        def iso(self) -> str:
            return real.iso()

    clock.override(Later())

    assert login(auth, "alice", PASSWORD).status_code == 200


def test_a_successful_login_resets_the_failure_count(auth: Any) -> None:
    register(auth)
    for _ in range(4):
        login(auth, "alice", "not the right password")
    assert login(auth, "alice", PASSWORD).status_code == 200
    for _ in range(4):
        login(auth, "alice", "not the right password")

    assert login(auth, "alice", PASSWORD).status_code == 200


def test_refresh_rotates_the_refresh_token(auth: Any, alice: dict[str, Any]) -> None:
    old = alice["tokens"]["refresh_token"]

    response = refresh(auth, old)

    assert response.status_code == 200
    body = json_body(response)
    assert body["refresh_token"] != old
    assert refresh(auth, body["refresh_token"]).status_code == 200


def test_a_reused_refresh_token_is_rejected_and_revokes_the_whole_family(auth: Any, alice: dict[str, Any]) -> None:
    stolen = alice["tokens"]["refresh_token"]
    legit = json_body(refresh(auth, stolen))["refresh_token"]

    reuse = refresh(auth, stolen)

    assert reuse.status_code == 401
    assert json_body(reuse)["Code"] == "InvalidRefreshTokenError"
    assert refresh(auth, legit).status_code == 401


def test_of_concurrent_uses_of_one_refresh_token_one_wins_and_the_rest_revoke_the_login(
    auth: Any, alice: dict[str, Any]
) -> None:
    token = alice["tokens"]["refresh_token"]

    responses = at_once(4, lambda _: refresh(auth, token))

    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]
    (winner,) = [json_body(r)["refresh_token"] for r in responses if r.status_code == 200]
    assert refresh(auth, winner).status_code == 401


def test_an_unknown_refresh_token_is_a_401(auth: Any) -> None:
    response = refresh(auth, "not-a-token")

    assert response.status_code == 401
    assert json_body(response)["Code"] == "InvalidRefreshTokenError"


def test_revoke_ends_the_login(auth: Any, alice: dict[str, Any]) -> None:
    token = alice["tokens"]["refresh_token"]

    response = post(auth, "/token/revoke", {"refresh_token": token})

    assert response.status_code == 204
    assert response.body == b""
    assert refresh(auth, token).status_code == 401


def test_revoking_an_unknown_token_is_a_204(auth: Any) -> None:
    assert post(auth, "/token/revoke", {"refresh_token": "never-issued"}).status_code == 204


def test_revoke_without_a_token_is_a_400(auth: Any) -> None:
    response = post(auth, "/token/revoke", {})

    assert response.status_code == 400
    assert "refresh_token`" in json_body(response)["Message"]


def test_client_credentials_give_a_service_token_without_refresh_token(auth: Any, key_ring: Any) -> None:
    clients = services.load("auth").module("clients")
    with services.load("auth").environment():
        secret = clients.create_client("profile-service", "location:read")

    response = post(
        auth, "/token", {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": secret}
    )

    assert response.status_code == 200
    body = json_body(response)
    assert "refresh_token" not in body
    assert body["scope"] == "location:read"
    assert _claims(key_ring, body["access_token"])["sub"] == "client:profile-service"


@pytest.mark.parametrize("client_id", ["pr", "-profile", "Profile", "profile-service\n"])
def test_a_client_id_outside_the_pattern_is_refused(aws: Any, client_id: str) -> None:
    clients = services.load("auth").module("clients")

    with services.load("auth").environment(), pytest.raises(ValueError, match="client ids"):
        clients.create_client(client_id, "location:read")


def test_a_wrong_client_secret_is_a_401(auth: Any) -> None:
    with services.load("auth").environment():
        services.load("auth").module("clients").create_client("profile-service", "location:read")

    response = post(
        auth, "/token", {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": "nope"}
    )

    assert response.status_code == 401
    assert json_body(response)["Code"] == "InvalidCredentialsError"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "grant_type"),
        ({"grant_type": "implicit"}, "grant_type"),
        ({"grant_type": "password", "username": "alice"}, "password"),
        ({"grant_type": "password", "username": "alice", "password": 12}, "password"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
        ({"grant_type": "client_credentials", "client_id": "x"}, "client_secret"),
        ({"grant_type": "password", "username": "a", "password": "b", "scope": "admin"}, "scope"),
    ],
)
def test_invalid_token_requests_are_a_400_naming_the_field(auth: Any, body: dict[str, Any], field: str) -> None:
    response = post(auth, "/token", body)

    assert response.status_code == 400
    assert f"{field}`" in json_body(response)["Message"]
