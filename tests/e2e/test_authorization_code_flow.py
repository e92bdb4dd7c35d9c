"""The authorization code flow with PKCE, driven by authlib's OAuth 2.0 client without a browser.

authlib makes the authorization URL and the PKCE pair (S256), the test reads the login
page and posts its form as a browser would (the page's cookie kept in the session), and
authlib takes the code from the redirect, checks its ``state`` and exchanges it. The access
token is then validated as a resource server would, by authlib's RFC 9068 validator.
Every answer is checked against the auth service's OpenAPI document (``check_documented``).
"""

from __future__ import annotations

import re
import shlex
import urllib.parse
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import joserfc.jwk
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator

from tests.e2e.api import Api, User, bearer, check_documented
from tests.e2e.conftest import admin, register_public_client
from tests.e2e.test_oauth_clients import assert_works_refreshes_and_revokes
from tools import stages
from tools.localstack import LocalStack, addressed

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"), pytest.mark.usefixtures("plain_http_on_loopback")]

CALLBACK = "http://127.0.0.1:9/callback"  # never reached: the test reads the redirect itself
ADMIN = ".venv/bin/python -m tools.admin "  # how the README runs the admin command


@pytest.fixture(scope="module")
def app_id(stack: LocalStack) -> str:
    """A browser app registered with the admin command, with its one redirect URI."""
    client_id = f"authlib-{uuid.uuid4().hex[:8]}"
    register_public_client(stack, client_id, CALLBACK)
    return client_id


@pytest.fixture(scope="module")
def metadata(api: Api) -> dict[str, Any]:
    return api.get("auth", "/.well-known/openid-configuration").json()  # type: ignore[no-any-return]


@pytest.fixture
def user(api: Api) -> User:
    return api.new_user("pkce")


@pytest.fixture
def session(app_id: str) -> Iterator[OAuth2Session]:
    """authlib's client of the app: a public client (no secret), PKCE with S256."""
    client = OAuth2Session(
        client_id=app_id,
        redirect_uri=CALLBACK,
        scope="profile:write location:write",
        code_challenge_method="S256",
    )
    with check_documented(client) as documented:
        yield documented


class _LoginForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.action = named.get("action") or ""
        if tag == "input" and named.get("name"):
            self.fields[named["name"] or ""] = named.get("value") or ""


def _log_in(session: OAuth2Session, metadata: dict[str, Any], user: User, verifier: str) -> tuple[str, str]:
    """Open the login page authlib's URL names, post its form; the redirect's URL and the state sent."""
    url, state = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    page = session.get(url, allow_redirects=False, timeout=30, withhold_token=True)
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    form = _LoginForm()
    form.feed(page.text)
    assert form.action == "authorize" and set(form.fields) == {"request", "username", "password"}
    answer = session.post(
        metadata["authorization_endpoint"],
        data={"request": form.fields["request"], "username": user.username, "password": user.password},
        allow_redirects=False,
        timeout=30,
        withhold_token=True,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"], state


def test_authlib_logs_in_with_a_code_and_pkce_refreshes_and_revokes(
    api: Api, metadata: dict[str, Any], user: User, session: OAuth2Session, app_id: str
) -> None:
    # GIVEN the user logged in on the page authlib sent them to
    verifier = generate_token(48)
    redirected, state = _log_in(session, metadata, user, verifier)
    assert redirected.startswith(CALLBACK + "?")

    # WHEN authlib takes the code from the redirect (checking its state) and exchanges it with the verifier
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=redirected, state=state, code_verifier=verifier
    )

    # THEN the tokens are the user's, for this app's scopes; they work, rotate (authlib names the
    # public client itself) and are revoked
    assert set(token["scope"].split()) == {"profile:write", "location:write"}
    assert_works_refreshes_and_revokes(session, api, metadata, user, token)


def test_a_code_used_twice_is_invalid_grant_and_the_first_login_is_revoked(
    metadata: dict[str, Any], user: User, session: OAuth2Session
) -> None:
    verifier = generate_token(48)
    redirected, state = _log_in(session, metadata, user, verifier)
    first = session.fetch_token(
        metadata["token_endpoint"], authorization_response=redirected, state=state, code_verifier=verifier
    )

    with pytest.raises(OAuthError) as again:
        session.fetch_token(
            metadata["token_endpoint"], authorization_response=redirected, state=state, code_verifier=verifier
        )

    assert again.value.error == "invalid_grant"
    with pytest.raises(OAuthError) as refresh:
        session.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert refresh.value.error == "invalid_grant"


def test_the_access_token_passes_a_resource_servers_rfc_9068_validation(
    api: Api, metadata: dict[str, Any], user: User, session: OAuth2Session, app_id: str
) -> None:
    verifier = generate_token(48)
    redirected, state = _log_in(session, metadata, user, verifier)
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=redirected, state=state, code_verifier=verifier
    )
    jwks = api.get("auth", "/.well-known/jwks.json").json()

    # GIVEN authlib's resource-server validator of RFC 9068 JWT access tokens, with the issuer's keys
    class Validator(JWTBearerTokenValidator):  # type: ignore[misc]
        def get_jwks(self) -> joserfc.jwk.KeySet:
            return joserfc.jwk.KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    validator = Validator(
        issuer=metadata["issuer"], resource_server=stages.stage_env("auth", "local")["TOKEN_AUDIENCE"]
    )

    # WHEN it authenticates the token and validates it for a scope the app asked for
    claims = validator.authenticate_token(token["access_token"])
    validator.validate_token(claims, scopes=["profile:write"], request=None)

    # THEN it is the user's, got by this app, typed as RFC 9068 asks
    assert claims.header["typ"] == "at+jwt"
    assert claims["client_id"] == app_id
    assert claims["sub"] == user.user_id
    assert claims["iss"] == metadata["issuer"]


def test_a_wrong_verifier_is_refused_by_the_token_endpoint(
    metadata: dict[str, Any], user: User, session: OAuth2Session
) -> None:
    verifier = generate_token(48)
    redirected, state = _log_in(session, metadata, user, verifier)

    with pytest.raises(OAuthError) as failure:
        session.fetch_token(
            metadata["token_endpoint"], authorization_response=redirected, state=state, code_verifier=generate_token(48)
        )

    assert failure.value.error == "invalid_grant"


def _readme_browser_login() -> tuple[list[str], str, str]:
    """The README's browser login: the admin command's arguments, the URL to open, the verifier it names."""
    text = (stages.ROOT / "README.md").read_text()
    section = text[text.index("## A browser app's login") :]
    section = section[: section.index("\n## ")]
    blocks = section.split("```")[1::2]  # the fenced blocks: the command (sh), then the URL
    command, url = blocks[0].removeprefix("sh").strip(), blocks[1].strip()
    verifier = re.search(r"for the verifier `([\w-]+)`", section)
    assert command.startswith(ADMIN) and verifier is not None, section
    return shlex.split(command.removeprefix(ADMIN)), url, verifier.group(1)


def test_the_readmes_browser_login_works_as_printed(stack: LocalStack, api: Api) -> None:
    # GIVEN the README's admin command run on a stack, and a user
    arguments, url, verifier = _readme_browser_login()
    result = admin(stack, *arguments)
    assert result.returncode == 0, result.stderr
    user = api.new_user("readme")

    # WHEN a browser opens the README's URL (addressed to this stack) and logs in on the page
    with requests.Session() as browser:
        page = browser.get(addressed(url, stack.urls), allow_redirects=False, timeout=30)
        assert page.status_code == 200, page.text
        form = _LoginForm()
        form.feed(page.text)
        login = browser.post(
            addressed(url.split("?")[0], stack.urls),
            data={"request": form.fields["request"], "username": user.username, "password": user.password},
            allow_redirects=False,
            timeout=30,
        )

    # THEN it comes back to the app's callback as the README says, and the code with the
    # README's verifier (whose S256 challenge is the URL's) gives the user's tokens
    assert login.status_code == 302, login.text
    callback, _, query = login.headers["Location"].partition("?")
    params = dict(urllib.parse.parse_qsl(query))
    assert callback == "http://localhost:5173/callback"
    assert params["state"] == "xyz" and params["iss"] == stack.urls["auth"].rstrip("/")
    exchanged = requests.post(
        stack.urls["auth"].rstrip("/") + "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": callback,
            "code_verifier": verifier,
            "client_id": arguments[1],
        },
        timeout=30,
    )
    assert exchanged.status_code == 200, exchanged.text
    assert api.get("auth", "/users/me", headers=bearer(exchanged.json()["access_token"])).json()["user_id"] == (
        user.user_id
    )
