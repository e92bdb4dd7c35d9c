"""Standard OAuth 2.0 client libraries, each with its defaults, against the running stack.

authlib and requests-oauthlib send what RFC 6749 says: form-encoded parameters, and
the client's credentials with HTTP Basic unless told otherwise. Every answer they get
is also checked against the auth service's OpenAPI document (``check_documented``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient, LegacyApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors
from requests_oauthlib import OAuth2Session as RequestsOAuthSession

from tests.e2e.api import PASSWORD, TIMEOUT_S, Api, User, check_documented
from tests.e2e.conftest import client_secret
from tools import stages
from tools.localstack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"), pytest.mark.usefixtures("plain_http_on_loopback")]

PUBLIC_CLIENT = "my-app"  # a public client names itself; it has no secret


@pytest.fixture(scope="module")
def metadata(api: Api) -> dict[str, str]:
    """The RFC 8414 metadata: where a client finds the token and revocation endpoints."""
    return api.get("auth", "/.well-known/oauth-authorization-server").json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def service_client(stack: LocalStack) -> tuple[str, str]:
    """The profile service's client id and secret, as the stack created them."""
    return stages.stage_env("profile", "local")["CLIENT_ID"], client_secret(stack)


@pytest.fixture
def user(api: Api) -> User:
    return api.new_user("oauth")


@pytest.fixture
def authlib_public() -> Iterator[AuthlibSession]:
    with check_documented(AuthlibSession(client_id=PUBLIC_CLIENT)) as session:
        yield session


# authlib


def test_authlib_logs_in_refreshes_and_revokes(
    api: Api, metadata: dict[str, str], user: User, authlib_public: AuthlibSession
) -> None:
    # WHEN a user logs in with authlib's password grant (form-encoded, client_secret_basic)
    token = authlib_public.fetch_token(metadata["token_endpoint"], username=user.username, password=PASSWORD)

    # THEN the token works on the API through the same session, rotates, and is revoked
    assert_works_refreshes_and_revokes(authlib_public, api, metadata, user, token)


def assert_works_refreshes_and_revokes(
    session: AuthlibSession, api: Api, metadata: dict[str, str], user: User, token: dict[str, str]
) -> None:
    """The user's token works on the API through ``session``, its refresh token rotates, and revocation ends it."""
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    me = session.get(api.urls["auth"] + "/users/me", timeout=TIMEOUT_S)
    assert me.status_code == 200 and me.json()["user_id"] == user.user_id

    # The refresh token rotates
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]

    # Revocation (RFC 7009) answers 200 and ends the login
    revoked = session.revoke_token(
        metadata["revocation_endpoint"], refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200
    with pytest.raises(OAuthError) as failure:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert failure.value.error == "invalid_grant"


def test_authlib_raises_invalid_grant_for_a_wrong_password_instead_of_keeping_a_token(
    metadata: dict[str, str], user: User, authlib_public: AuthlibSession
) -> None:
    with pytest.raises(OAuthError) as failure:
        authlib_public.fetch_token(metadata["token_endpoint"], username=user.username, password="not the password")

    assert failure.value.error == "invalid_grant"
    assert not authlib_public.token


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_gets_a_service_token_with_client_credentials(
    metadata: dict[str, str], service_client: tuple[str, str], method: str
) -> None:
    client_id, secret = service_client
    with check_documented(AuthlibSession(client_id, secret, token_endpoint_auth_method=method)) as session:
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")

    assert token["scope"] == "location:read"
    assert "refresh_token" not in token


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_raises_invalid_client_for_an_unknown_client(metadata: dict[str, str], method: str) -> None:
    # An unknown client id: a wrong secret of a real client would count toward its lockout.
    with check_documented(AuthlibSession("no-such-client", "guess", token_endpoint_auth_method=method)) as session:
        with pytest.raises(OAuthError) as failure:
            session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")

    assert failure.value.error == "invalid_client"


# requests-oauthlib


def test_requests_oauthlib_logs_in_and_refreshes(api: Api, metadata: dict[str, str], user: User) -> None:
    session = check_documented(RequestsOAuthSession(client=LegacyApplicationClient(client_id=PUBLIC_CLIENT)))

    token = session.fetch_token(
        metadata["token_endpoint"], username=user.username, password=PASSWORD, timeout=TIMEOUT_S
    )
    me = session.get(api.urls["auth"] + "/users/me", timeout=TIMEOUT_S)
    # A public client names itself on a refresh too (RFC 6749 section 3.2.1): the token is bound to it.
    refreshed = session.refresh_token(
        metadata["token_endpoint"], refresh_token=token["refresh_token"], client_id=PUBLIC_CLIENT, timeout=5
    )

    assert me.status_code == 200 and me.json()["user_id"] == user.user_id
    assert refreshed["refresh_token"] != token["refresh_token"]


def test_requests_oauthlib_raises_invalid_grant_for_a_wrong_password(metadata: dict[str, str], user: User) -> None:
    session = check_documented(RequestsOAuthSession(client=LegacyApplicationClient(client_id=PUBLIC_CLIENT)))

    with pytest.raises(oauthlib_errors.InvalidGrantError):
        session.fetch_token(
            metadata["token_endpoint"], username=user.username, password="not the password", timeout=TIMEOUT_S
        )


def test_requests_oauthlib_gets_a_service_token_with_basic_and_with_post(
    metadata: dict[str, str], service_client: tuple[str, str]
) -> None:
    client_id, secret = service_client
    session = check_documented(RequestsOAuthSession(client=BackendApplicationClient(client_id=client_id)))

    basic = session.fetch_token(metadata["token_endpoint"], client_secret=secret, timeout=TIMEOUT_S)
    post = session.fetch_token(
        metadata["token_endpoint"], client_id=client_id, client_secret=secret, include_client_id=True, timeout=5
    )

    assert basic["scope"] == post["scope"] == ["location:read"]  # oauthlib splits the scope into a list


def test_requests_oauthlib_raises_invalid_client_for_an_unknown_client(metadata: dict[str, str]) -> None:
    session = check_documented(RequestsOAuthSession(client=BackendApplicationClient(client_id="no-such-client")))

    with pytest.raises(oauthlib_errors.InvalidClientError):
        session.fetch_token(metadata["token_endpoint"], client_secret="guess", timeout=TIMEOUT_S)


def test_the_issuer_is_where_the_metadata_is(api: Api, metadata: dict[str, str]) -> None:
    # RFC 8414 section 3: issuer + the well-known path is where the metadata was found.
    assert metadata["issuer"] == api.urls["auth"]
    assert api.get("auth", "/.well-known/openid-configuration").json() == metadata
    assert metadata["token_endpoint"] == metadata["issuer"] + "/token"
