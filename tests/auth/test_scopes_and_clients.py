"""Revision 3's token rules: scope on every grant, unknown parameters ignored, refresh tokens bound to
their client, and revocation as RFC 7009 section 2.1 says (access tokens cannot be revoked)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth.conftest import PASSWORD, assert_oauth_error, basic, post_form, register
from tests.support import services
from tests.support.services import json_body

USER_SCOPE = "profile:write location:write"


def _login(auth: Any, **extra: str) -> Any:
    return post_form(auth, "/token", {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra})


def _refresh(auth: Any, token: str, **extra: str) -> Any:
    return post_form(auth, "/token", {"grant_type": "refresh_token", "refresh_token": token, **extra})


def _revoke(auth: Any, token: str, headers: dict[str, str] | None = None, **extra: str) -> Any:
    return post_form(auth, "/token/revoke", {"token": token, **extra}, headers)


@pytest.fixture
def registered(auth: Any) -> dict[str, Any]:
    return register(auth)


@pytest.fixture
def service_client(auth: Any) -> tuple[str, str]:
    """A confidential client (``reporting-job``, scope location:read) and its secret."""
    with services.load("auth").environment():
        clients = services.load("auth").module("clients")
        return "reporting-job", clients.create_client("reporting-job", "location:read")


# Scope (RFC 6749 section 3.3)


def test_a_login_without_scope_gets_everything_a_user_may_have(auth: Any, registered: dict[str, Any]) -> None:
    assert json_body(_login(auth))["scope"] == USER_SCOPE


@pytest.mark.parametrize("asked", ["location:write", "profile:write", "location:write profile:write"])
def test_a_login_gets_the_subset_of_its_scopes_it_asks_for(auth: Any, registered: dict[str, Any], asked: str) -> None:
    body = json_body(_login(auth, scope=asked))

    assert set(body["scope"].split()) == set(asked.split())


@pytest.mark.parametrize("asked", ["location:read", "admin", "profile:write billing:read"])
def test_a_scope_a_user_may_not_have_is_invalid_scope(auth: Any, registered: dict[str, Any], asked: str) -> None:
    body = assert_oauth_error(_login(auth, scope=asked), 400, "invalid_scope")

    assert "may have: profile:write location:write" in body["error_description"]


def test_a_refresh_may_narrow_the_scope_and_widen_it_back_to_the_logins_never_beyond(
    auth: Any, registered: dict[str, Any]
) -> None:
    login = json_body(_login(auth, scope="location:write profile:write"))
    narrowed = json_body(_refresh(auth, login["refresh_token"], scope="location:write"))
    widened = json_body(_refresh(auth, narrowed["refresh_token"]))
    beyond = _refresh(auth, widened["refresh_token"], scope="location:read")

    assert narrowed["scope"] == "location:write"
    assert set(widened["scope"].split()) == set(USER_SCOPE.split())
    assert_oauth_error(beyond, 400, "invalid_scope")
    # Nothing was rotated by the refused refresh: the token still works.
    assert _refresh(auth, widened["refresh_token"]).status_code == 200


def test_a_login_with_a_narrow_scope_cannot_refresh_into_more(auth: Any, registered: dict[str, Any]) -> None:
    login = json_body(_login(auth, scope="profile:write"))

    assert_oauth_error(_refresh(auth, login["refresh_token"], scope=USER_SCOPE), 400, "invalid_scope")
    assert json_body(_refresh(auth, login["refresh_token"]))["scope"] == "profile:write"


def test_a_service_client_gets_the_scopes_registered_for_it_and_no_other(
    auth: Any, service_client: tuple[str, str]
) -> None:
    client_id, secret = service_client
    credentials = {"grant_type": "client_credentials"}

    granted = post_form(auth, "/token", {**credentials, "scope": "location:read"}, basic(client_id, secret))
    refused = post_form(auth, "/token", {**credentials, "scope": "location:write"}, basic(client_id, secret))

    assert json_body(granted)["scope"] == "location:read"
    assert_oauth_error(refused, 400, "invalid_scope")


def test_the_access_tokens_scope_is_what_was_granted(auth: Any, registered: dict[str, Any], key_ring: Any) -> None:
    import jwt

    token = json_body(_login(auth, scope="profile:write"))["access_token"]

    assert jwt.decode(token, options={"verify_signature": False})["scope"] == "profile:write"


@pytest.mark.parametrize("scope", ["", 'quoted"scope', "two  spaces", "x" * 1025])
def test_a_malformed_scope_is_invalid_request_or_left_out(auth: Any, registered: dict[str, Any], scope: str) -> None:
    response = _login(auth, scope=scope)

    if scope == "":  # RFC 6749 section 3.2: a parameter without a value is as if omitted
        assert json_body(response)["scope"] == USER_SCOPE
    else:
        assert_oauth_error(response, 400, "invalid_request")


# Unknown parameters (RFC 6749 section 3.1)


def test_unknown_parameters_are_ignored_on_every_grant_and_on_revocation(auth: Any, registered: dict[str, Any]) -> None:
    login = _login(auth, nonce="abc", resource="https://example.com/api", prompt="none")
    refreshed = _refresh(auth, json_body(login)["refresh_token"], audience="anything")
    revoked = _revoke(auth, json_body(refreshed)["refresh_token"], unknown="1")

    assert login.status_code == refreshed.status_code == revoked.status_code == 200


# Refresh tokens bound to their client (RFC 6749 sections 6 and 10.4)


def test_a_refresh_token_issued_to_a_client_works_only_for_that_client(auth: Any, registered: dict[str, Any]) -> None:
    token = json_body(_login(auth, client_id="app-one"))["refresh_token"]

    by_another = _refresh(auth, token, client_id="app-two")
    by_none = _refresh(auth, token)
    by_its_own = _refresh(auth, token, client_id="app-one")

    assert_oauth_error(by_another, 400, "invalid_grant")
    assert_oauth_error(by_none, 400, "invalid_grant")
    # Nothing was rotated by the refused tries: its own client still rotates it, once.
    assert by_its_own.status_code == 200


def test_a_refresh_token_issued_to_no_client_is_refused_to_a_client(auth: Any, registered: dict[str, Any]) -> None:
    token = json_body(_login(auth))["refresh_token"]

    assert_oauth_error(_refresh(auth, token, client_id="app-one"), 400, "invalid_grant")
    assert _refresh(auth, token).status_code == 200


def test_the_binding_survives_rotation(auth: Any, registered: dict[str, Any]) -> None:
    first = json_body(_login(auth, client_id="app-one"))["refresh_token"]
    second = json_body(_refresh(auth, first, client_id="app-one"))["refresh_token"]

    assert_oauth_error(_refresh(auth, second, client_id="app-two"), 400, "invalid_grant")
    assert _refresh(auth, second, client_id="app-one").status_code == 200


# Revocation (RFC 7009 section 2.1)


def test_an_access_token_cannot_be_revoked(auth: Any, registered: dict[str, Any]) -> None:
    access = json_body(_login(auth))["access_token"]

    assert_oauth_error(_revoke(auth, access), 400, "unsupported_token_type")
    assert_oauth_error(_revoke(auth, "anything", token_type_hint="access_token"), 400, "unsupported_token_type")


def test_a_confidential_client_cannot_revoke_a_token_not_issued_to_it(
    auth: Any, registered: dict[str, Any], service_client: tuple[str, str]
) -> None:
    client_id, secret = service_client
    users_token = json_body(_login(auth))["refresh_token"]
    apps_token = json_body(_login(auth, client_id="app-one"))["refresh_token"]

    for token in (users_token, apps_token):
        assert_oauth_error(_revoke(auth, token, basic(client_id, secret)), 400, "invalid_grant")
        assert _refresh(auth, token, **({"client_id": "app-one"} if token == apps_token else {})).status_code == 200


def test_a_public_client_revokes_its_own_token_and_no_one_elses(auth: Any, registered: dict[str, Any]) -> None:
    apps_token = json_body(_login(auth, client_id="app-one"))["refresh_token"]

    assert_oauth_error(_revoke(auth, apps_token, client_id="app-two"), 400, "invalid_grant")
    assert_oauth_error(_revoke(auth, apps_token), 400, "invalid_grant")
    assert _revoke(auth, apps_token, client_id="app-one").status_code == 200
    assert_oauth_error(_refresh(auth, apps_token, client_id="app-one"), 400, "invalid_grant")


def test_a_token_issued_to_no_client_is_revoked_by_whoever_presents_it(auth: Any, registered: dict[str, Any]) -> None:
    token = json_body(_login(auth))["refresh_token"]

    assert _revoke(auth, token).status_code == 200
    assert_oauth_error(_refresh(auth, token), 400, "invalid_grant")


def test_an_unknown_token_is_still_a_200(auth: Any) -> None:
    assert _revoke(auth, "no-such-token").status_code == 200


# RFC 9068 access tokens


def _header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    import jwt

    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def test_access_tokens_say_at_jwt_and_name_the_client_that_got_them(
    auth: Any, registered: dict[str, Any], service_client: tuple[str, str]
) -> None:
    client_id, secret = service_client
    unnamed = json_body(_login(auth))
    named = json_body(_login(auth, client_id="app-one"))
    refreshed = json_body(_refresh(auth, named["refresh_token"], client_id="app-one"))
    service = json_body(post_form(auth, "/token", {"grant_type": "client_credentials"}, basic(client_id, secret)))

    tokens = {
        "public_client": unnamed["access_token"],
        "app-one": refreshed["access_token"],
        client_id: service["access_token"],
    }
    for expected, token in tokens.items():
        header, claims = _header_and_claims(token)
        assert header["typ"] == "at+jwt"
        assert claims["client_id"] == expected
