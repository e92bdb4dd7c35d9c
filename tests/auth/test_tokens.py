"""POST /token (the three grants, RFC 6749), POST /token/revoke (RFC 7009) and the lockout."""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from typing import Any

import jwt
import pytest

from tests.auth.conftest import PASSWORD, assert_oauth_error, basic, login, post, post_form, refresh, register
from tests.support import services
from tests.support.services import json_body
from tests.support.threads import at_once
from tests.support.tokens import AUDIENCE, ISSUER


def _claims(key_ring: Any, token: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    public = key_ring.keys[kid].public_key()
    return jwt.decode(token, public, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)  # type: ignore[no-any-return]


def _move_the_clock(seconds: int) -> None:
    """The auth service's clock, ``seconds`` ahead from now on (the test's Lazy accessors are reset after it)."""
    clock = services.load("auth").module("tokens").clock
    real = clock()

    class Later:
        def now(self) -> int:
            return real.now() + seconds

        def iso(self) -> str:
            return real.iso()

    clock.override(Later())


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
    assert header["alg"] == "ES256"
    assert header["kid"] == key_ring.active
    claims = _claims(key_ring, body["access_token"])
    assert claims["sub"] == user["user_id"]
    assert claims["scope"] == "profile:write location:write"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]
    assert claims["iss"] == ISSUER


def test_a_form_encoded_login_from_a_public_client_gets_tokens(auth: Any) -> None:
    # GIVEN what an OAuth 2.0 library sends for a public client: form parameters, client_id alone
    register(auth)

    response = post_form(
        auth, "/token", {"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "my-app"}
    )

    assert response.status_code == 200, response.body
    assert json_body(response)["token_type"] == "Bearer"


def test_a_public_client_may_name_itself_with_basic_and_an_empty_secret(auth: Any) -> None:
    # requests-oauthlib's default for a client without a secret
    register(auth)

    response = post_form(
        auth, "/token", {"grant_type": "password", "username": "alice", "password": PASSWORD}, basic("my-app", "")
    )

    assert response.status_code == 200, response.body


def test_parameters_without_a_value_count_as_omitted(auth: Any) -> None:
    register(auth)

    response = post_form(
        auth, "/token", {"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": ""}
    )

    assert response.status_code == 200, response.body


def test_json_nulls_count_as_omitted_as_the_document_says(auth: Any) -> None:
    # The document calls client_id and client_secret optional strings; revision 2's JSON clients may send null
    register(auth)
    body = {
        "grant_type": "password",
        "username": "alice",
        "password": PASSWORD,
        "client_id": None,
        "client_secret": None,
    }

    response = post(auth, "/token", body)

    assert response.status_code == 200, response.body


def test_login_accepts_the_username_in_any_case(auth: Any) -> None:
    register(auth, "alice")

    assert login(auth, "ALICE").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_invalid_grant(auth: Any) -> None:
    register(auth)

    wrong = login(auth, "alice", "not the right password")
    unknown = login(auth, "nobody", PASSWORD)

    assert assert_oauth_error(wrong, 400, "invalid_grant") == assert_oauth_error(unknown, 400, "invalid_grant")


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
            assert login(auth, username, password).status_code == 400
            durations[username].append(time.thread_time() - start)
    wrong, unknown = statistics.median(durations["alice"]), statistics.median(durations["nobody"])

    assert abs(wrong - unknown) < max(wrong, unknown) * 0.5


def test_five_failed_logins_lock_the_username_out_with_retry_after(auth: Any) -> None:
    register(auth)
    for _ in range(5):
        assert login(auth, "alice", "not the right password").status_code == 400

    locked = login(auth, "alice", PASSWORD)

    assert_oauth_error(locked, 429, "login_locked")
    assert 890 <= int(locked.headers["Retry-After"]) <= 900


def test_concurrent_wrong_passwords_get_no_more_tries_than_the_limit(auth: Any) -> None:
    # GIVEN eight guesses at alice's password sent at the same moment
    register(auth)

    responses = at_once(8, lambda _: login(auth, "alice", "not the right password"))

    # THEN only five were checked; the other three were locked out without a check
    assert sorted(r.status_code for r in responses) == [400] * 5 + [429] * 3


def test_the_lockout_ends_when_the_window_passes(auth: Any) -> None:
    register(auth)
    for _ in range(5):
        login(auth, "alice", "not the right password")

    _move_the_clock(901)

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


def test_a_refresh_token_presented_again_after_its_successor_was_used_is_theft(
    auth: Any, alice: dict[str, Any]
) -> None:
    stolen = alice["tokens"]["refresh_token"]
    successor = json_body(refresh(auth, stolen))["refresh_token"]
    legit = json_body(refresh(auth, successor))["refresh_token"]

    reuse = refresh(auth, stolen)

    assert_oauth_error(reuse, 400, "invalid_grant")
    assert refresh(auth, legit).status_code == 400  # the whole login is revoked


def test_a_refresh_token_presented_again_after_30_seconds_is_theft(auth: Any, alice: dict[str, Any]) -> None:
    stolen = alice["tokens"]["refresh_token"]
    successor = json_body(refresh(auth, stolen))["refresh_token"]

    _move_the_clock(31)
    reuse = refresh(auth, stolen)

    assert_oauth_error(reuse, 400, "invalid_grant")
    assert refresh(auth, successor).status_code == 400


def test_a_refresh_retried_within_30_seconds_gets_a_new_pair_and_the_lost_successor_stops_working(
    auth: Any, alice: dict[str, Any]
) -> None:
    # GIVEN a refresh whose answer the client never got (issue 20, finding 4)
    token = alice["tokens"]["refresh_token"]
    lost = json_body(refresh(auth, token))["refresh_token"]

    # WHEN the client retries with the same refresh token 20 seconds later (well inside the
    # window: the real clock moves on too, by up to seconds on a busy machine)
    _move_the_clock(20)
    retried = refresh(auth, token)

    # THEN it gets a new pair, which works; the successor it never saw does not, and the
    # login is not revoked by it
    assert retried.status_code == 200, retried.body
    again = json_body(retried)["refresh_token"]
    assert again not in (token, lost)
    assert_oauth_error(refresh(auth, lost), 400, "invalid_grant")
    assert refresh(auth, again).status_code == 200


def test_a_retry_can_be_retried_within_the_same_30_seconds(auth: Any, alice: dict[str, Any]) -> None:
    token = alice["tokens"]["refresh_token"]
    refresh(auth, token)
    refresh(auth, token)
    _move_the_clock(20)
    last = refresh(auth, token)

    assert last.status_code == 200
    assert refresh(auth, json_body(last)["refresh_token"]).status_code == 200


def test_of_concurrent_uses_of_one_refresh_token_each_is_a_retry_and_one_pair_works(
    auth: Any, alice: dict[str, Any]
) -> None:
    token = alice["tokens"]["refresh_token"]

    responses = at_once(4, lambda _: refresh(auth, token))

    assert [r.status_code for r in responses] == [200] * 4
    working = [r for r in (json_body(r)["refresh_token"] for r in responses) if refresh(auth, r).status_code == 200]
    assert len(working) == 1


def test_the_successor_is_stored_as_a_hash_only(auth: Any, alice: dict[str, Any], aws: Any) -> None:
    token = alice["tokens"]["refresh_token"]
    successor = json_body(refresh(auth, token))["refresh_token"]

    items = aws.scan(TableName=services.table_name("auth"))["Items"]

    assert successor not in repr(items)


def test_an_unknown_refresh_token_is_invalid_grant(auth: Any) -> None:
    assert_oauth_error(refresh(auth, "not-a-token"), 400, "invalid_grant")


def test_an_expired_refresh_token_is_invalid_grant(auth: Any, alice: dict[str, Any]) -> None:
    # GIVEN a refresh token, and a clock moved past its 30 days (DynamoDB's TTL may not have deleted it)
    _move_the_clock(30 * 24 * 3600)

    # WHEN it is used, THEN it is refused
    body = assert_oauth_error(refresh(auth, alice["tokens"]["refresh_token"]), 400, "invalid_grant")
    assert "expired" in body["error_description"]


def test_a_form_encoded_refresh_by_the_public_client_that_logged_in_rotates(auth: Any, alice: dict[str, Any]) -> None:
    password_form = {"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "my-app"}
    login = post_form(auth, "/token", password_form)
    params = {"grant_type": "refresh_token", "refresh_token": json_body(login)["refresh_token"], "client_id": "my-app"}

    assert post_form(auth, "/token", params).status_code == 200


def test_revoke_with_rfc7009s_token_parameter_ends_the_login(auth: Any, alice: dict[str, Any]) -> None:
    token = alice["tokens"]["refresh_token"]

    response = post_form(auth, "/token/revoke", {"token": token, "token_type_hint": "refresh_token"})

    assert response.status_code == 200
    assert response.body == b""
    assert refresh(auth, token).status_code == 400


def test_revoke_with_revision_1s_json_still_ends_the_login(auth: Any, alice: dict[str, Any]) -> None:
    token = alice["tokens"]["refresh_token"]

    assert post(auth, "/token/revoke", {"refresh_token": token}).status_code == 200
    assert refresh(auth, token).status_code == 400


@pytest.mark.parametrize("token", ["never-issued", "eyJhbGciOiJFUzI1NiJ9.an-access-token.x"])
def test_revoking_an_unknown_token_or_an_access_token_is_a_200(auth: Any, token: str) -> None:
    assert post_form(auth, "/token/revoke", {"token": token}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"token": "a", "refresh_token": "b"}, {"token": ""}])
def test_revoke_without_exactly_one_token_is_invalid_request(auth: Any, body: dict[str, str]) -> None:
    assert_oauth_error(post(auth, "/token/revoke", body), 400, "invalid_request")


def test_revoke_with_a_wrong_client_secret_is_invalid_client(auth: Any, alice: dict[str, Any]) -> None:
    _create_client()
    token = alice["tokens"]["refresh_token"]

    response = post_form(auth, "/token/revoke", {"token": token}, basic("profile-service", "wrong"))

    assert_oauth_error(response, 401, "invalid_client")
    assert refresh(auth, token).status_code == 200


def _create_client(client_id: str = "profile-service") -> str:
    with services.load("auth").environment():
        return services.load("auth").module("clients").create_client(client_id, "location:read")  # type: ignore[no-any-return]


def test_client_credentials_give_a_service_token_without_refresh_token(auth: Any, key_ring: Any) -> None:
    secret = _create_client()

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


def test_client_credentials_by_http_basic_give_a_service_token(auth: Any) -> None:
    secret = _create_client()

    response = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("profile-service", secret))

    assert response.status_code == 200, response.body
    assert json_body(response)["scope"] == "location:read"


def test_a_wrong_client_secret_in_the_body_is_invalid_client(auth: Any) -> None:
    _create_client()

    response = post(
        auth, "/token", {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": "nope"}
    )

    assert_oauth_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response.headers


def test_a_wrong_basic_secret_is_invalid_client_with_a_basic_challenge(auth: Any) -> None:
    _create_client()

    response = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("profile-service", "nope"))

    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_an_unknown_client_is_invalid_client(auth: Any) -> None:
    response = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("nobody-here", "secret"))

    assert_oauth_error(response, 401, "invalid_client")


def test_client_credentials_without_client_authentication_are_invalid_client(auth: Any) -> None:
    assert_oauth_error(post_form(auth, "/token", {"grant_type": "client_credentials"}), 401, "invalid_client")


def test_a_client_authenticating_twice_is_invalid_request(auth: Any) -> None:
    secret = _create_client()

    response = post_form(
        auth,
        "/token",
        {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": secret},
        basic("profile-service", secret),
    )

    assert_oauth_error(response, 400, "invalid_request")


def test_a_service_client_may_not_use_the_password_grant(auth: Any) -> None:
    secret = _create_client()
    register(auth)

    response = post_form(
        auth,
        "/token",
        {"grant_type": "password", "username": "alice", "password": PASSWORD},
        basic("profile-service", secret),
    )

    assert_oauth_error(response, 400, "unauthorized_client")


def test_five_wrong_client_secrets_lock_the_client_out_with_retry_after(auth: Any) -> None:
    secret = _create_client()
    for _ in range(5):
        response = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("profile-service", "nope"))
        assert response.status_code == 401

    locked = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("profile-service", secret))

    assert_oauth_error(locked, 429, "login_locked")
    assert 890 <= int(locked.headers["Retry-After"]) <= 900


def test_a_clients_lockout_is_not_a_users_of_the_same_name(auth: Any) -> None:
    _create_client("alice-app")
    register(auth, "alice-app")
    for _ in range(5):
        post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("alice-app", "nope"))

    assert login(auth, "alice-app").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grant_type": "password", "username": "alice"}, "password"),
        ({"grant_type": "password", "username": "alice", "password": 12}, "password"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
        ({"grant_type": "password", "username": "a", "password": "b", "scope": 'a"quote'}, "scope"),
    ],
)
def test_invalid_token_requests_are_invalid_request_naming_the_field(
    auth: Any, body: dict[str, Any], field: str
) -> None:
    response = post(auth, "/token", body)

    assert f"{field}`" in assert_oauth_error(response, 400, "invalid_request")["error_description"]


def test_a_missing_grant_type_is_invalid_request(auth: Any) -> None:
    assert_oauth_error(post_form(auth, "/token", {"username": "alice"}), 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["implicit", "device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"])
def test_an_unknown_grant_type_is_unsupported_grant_type(auth: Any, grant_type: str) -> None:
    assert_oauth_error(post_form(auth, "/token", {"grant_type": grant_type}), 400, "unsupported_grant_type")


def test_a_repeated_parameter_is_invalid_request(auth: Any) -> None:
    # RFC 6749 section 3.2: parameters must not be included more than once.
    params = [("grant_type", "password"), ("username", "alice"), ("username", "bob"), ("password", PASSWORD)]

    assert_oauth_error(post_form(auth, "/token", params), 400, "invalid_request")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b""),
        ("application/x-www-form-urlencoded", b"grant_type=password&&&=x"),
        ("application/x-www-form-urlencoded", b"grant_type=\xff\xfe"),
        ("application/x-www-form-urlencoded", b"grant_type=password&username=%ff"),
    ],
)
def test_a_malformed_body_is_invalid_request(auth: Any, content_type: str, body: bytes) -> None:
    response = auth.http.post("/token", headers={"Content-Type": content_type}, body=body)

    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_16_kib_is_a_413_in_the_oauth_shape(auth: Any, content_type: str) -> None:
    body = b"grant_type=password&username=" + b"a" * 17_000

    response = auth.http.post("/token", headers={"Content-Type": content_type}, body=body)

    assert_oauth_error(response, 413, "invalid_request")


def test_a_bearer_authorization_header_on_the_token_endpoint_is_invalid_request(auth: Any) -> None:
    response = post_form(auth, "/token", {"grant_type": "client_credentials"}, {"Authorization": "Bearer x"})

    assert_oauth_error(response, 400, "invalid_request")


def test_another_media_type_is_a_415(auth: Any) -> None:
    response = auth.http.post("/token", headers={"Content-Type": "text/plain"}, body=b"grant_type=password")

    assert response.status_code == 415


def test_a_json_body_sent_as_a_form_is_invalid_request_without_echoing_the_body(auth: Any) -> None:
    # curl -d '{"grant_type": ...}' sends JSON with curl's default form content type
    body = b'{"grant_type": "password", "username": "alice", "password": "my secret password"}'

    response = auth.http.post("/token", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)

    assert_oauth_error(response, 400, "invalid_request")
    assert b"my secret password" not in response.body
    assert b"alice" not in response.body


# Service-client secrets: 32 random bytes, stored as their SHA-256 (docs/security.md)


def _stored_client(client_id: str = "profile-service") -> dict[str, Any]:
    with services.load("auth").environment():
        item = services.load("auth").module("store").auth_store().client(client_id)
    assert item is not None
    return item  # type: ignore[no-any-return]


def _client_login(auth: Any, secret: str) -> Any:
    return post(
        auth, "/token", {"grant_type": "client_credentials", "client_id": "profile-service", "client_secret": secret}
    )


def test_a_service_clients_secret_is_stored_only_as_its_sha256(auth: Any) -> None:
    secret = _create_client()

    stored = _stored_client()["secret_hash"]

    assert stored == "sha256$" + hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(_stored_client())


def test_a_secret_hashed_with_argon2id_before_still_logs_in_and_is_stored_as_its_sha256_after(auth: Any) -> None:
    secret = _create_client()
    with services.load("auth").environment():
        store = services.load("auth").module("store").auth_store()
        argon2 = services.load("auth").module("passwords").hash_password(secret)
        store.put_client({**_stored_client(), "secret_hash": argon2})

    first, second = _client_login(auth, secret), _client_login(auth, secret)

    assert (first.status_code, second.status_code) == (200, 200)
    assert _stored_client()["secret_hash"] == "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def test_rehashing_an_old_secret_never_undoes_a_new_one(auth: Any) -> None:
    # A login with the old secret checked it just before an operator gave the client a new one.
    old = _create_client()
    with services.load("auth").environment():
        clients = services.load("auth").module("clients")
        store = services.load("auth").module("store").auth_store()
        checked = {**_stored_client(), "secret_hash": services.load("auth").module("passwords").hash_password(old)}
        new = clients.create_client("profile-service", "location:read")

        store.replace_client_secret_hash(checked, clients.hash_secret(old))

    assert _client_login(auth, new).status_code == 200
    assert _client_login(auth, old).status_code == 401


def test_a_client_secret_given_shorter_than_32_random_bytes_make_is_refused(aws: Any) -> None:
    clients = services.load("auth").module("clients")

    with services.load("auth").environment(), pytest.raises(ValueError, match="at least 43 characters"):
        clients.create_client("profile-service", "location:read", "s3cret-but-short")
