"""The authorization code flow with PKCE (r3): ``GET /authorize``, its login page and form, and the code grant.

The PKCE challenges are made by authlib's client-side helper, an implementation that is
not ours; time moves only when a test moves it (``ManualClock``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import jwt
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from servicekit.clock import clock
from tests.auth.conftest import PASSWORD, assert_oauth_error, post_form, register
from tests.support import services
from tests.support.clocks import ManualClock
from tests.support.output import counted
from tests.support.services import json_body
from tests.support.tokens import ISSUER

APP = "my-app"
OTHER_APP = "other-app"
CALLBACK = "http://localhost:5173/callback"
OTHER_CALLBACK = "http://localhost:5173/elsewhere"
VERIFIER = "a-verifier-of-forty-three-characters-or-more.0123456789_~"
STATE = "st4te-<script>alert(1)</script>"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def apps(aws: Any) -> None:
    """Two public apps, each with its own callback; alice, a user."""
    clock.override(ManualClock())
    auth = services.load("auth")
    with auth.environment():
        auth.module("clients").create_public_client(APP, "profile:write location:write", [CALLBACK, OTHER_CALLBACK])
        auth.module("clients").create_public_client(OTHER_APP, "profile:write", ["https://other.example/cb"])


@pytest.fixture
def alice(auth: Any, apps: None) -> dict[str, Any]:
    return register(auth)


def _query(**overrides: str | None) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": APP,
        "redirect_uri": CALLBACK,
        "state": STATE,
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def _authorize(auth: Any, headers: dict[str, str] | None = None, **overrides: str | None) -> Any:
    return auth.http.get("/authorize?" + urllib.parse.urlencode(_query(**overrides)), headers=headers or {})


class _Form(HTMLParser):
    """The login page's form fields, and the text of its error."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.fields[named["name"] or ""] = named.get("value") or ""
        self.scripts += tag == "script"


def _form(response: Any) -> _Form:
    form = _Form()
    form.feed(response.body.decode())
    return form


def _cookie(response: Any) -> str:
    """The ``Cookie`` header a browser sends back after ``response`` set its cookie."""
    return str(response.headers["Set-Cookie"].split(";")[0])


class Page:
    """A login page as a browser holds it: its form's request id, and the browser's cookie."""

    def __init__(self, response: Any) -> None:
        assert response.status_code == 200, response.body
        self.request_id = _form(response).fields["request"]
        self.cookie = _cookie(response)


def _post_login(
    auth: Any, page: Page, username: str = "alice", password: str = PASSWORD, headers: dict[str, str] | None = None
) -> Any:
    body = urllib.parse.urlencode({"request": page.request_id, "username": username, "password": password})
    return auth.http.post("/authorize", headers={**FORM, "Cookie": page.cookie, **(headers or {})}, body=body)


def _redirected(response: Any) -> dict[str, str]:
    """The parameters of a 302 to the app's callback."""
    assert response.status_code == 302, response.body
    location = response.headers["Location"]
    assert location.split("?")[0] in (CALLBACK, OTHER_CALLBACK), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def _code(auth: Any, **overrides: str | None) -> str:
    params = _redirected(_post_login(auth, Page(_authorize(auth, **overrides))))
    assert params["state"] == (overrides.get("state", STATE) or params["state"])
    assert params["iss"] == ISSUER
    return params["code"]


def _exchange(auth: Any, the_code: str, **overrides: str) -> Any:
    params = {
        "grant_type": "authorization_code",
        "code": the_code,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
        "client_id": APP,
        **overrides,
    }
    return post_form(auth, "/token", params)


# The metadata


def test_the_metadata_advertises_the_authorization_endpoint_pkce_and_iss(auth: Any) -> None:
    metadata = json_body(auth.http.get("/.well-known/oauth-authorization-server"))

    assert metadata["authorization_endpoint"] == ISSUER + "/authorize"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "authorization_code" in metadata["grant_types_supported"]
    assert metadata["scopes_supported"] == ["profile:write", "location:write", "location:read"]


# The page


def test_the_login_page_is_html_under_a_strict_policy_and_never_cached_or_framed(auth: Any, apps: None) -> None:
    response = _authorize(auth)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["style-src"].startswith("'sha256-")
    assert policy["form-action"] == "'self' http://localhost:5173"  # the post, and the redirect that answers it
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert "script-src" not in policy and _form(response).scripts == 0
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers  # no other origin may read it
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("authorize=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_login_page_shows_the_app_and_what_it_may_do(auth: Any, apps: None) -> None:
    page = _authorize(auth, scope="profile:write").body.decode()

    assert APP in page
    assert "change your public profile" in page
    assert "set your location" not in page


def test_a_browser_keeps_its_cookie_across_login_pages(auth: Any, apps: None) -> None:
    first = Page(_authorize(auth))

    second = _authorize(auth, headers={"Cookie": first.cookie})

    assert Page(second).request_id != first.request_id
    assert _cookie(second) == first.cookie


@pytest.mark.parametrize(
    ("client_id", "redirect_uri"),
    [
        ("no-such-app", CALLBACK),
        (None, CALLBACK),
        (APP, "http://localhost:5173/callback/"),  # not exactly as registered
        (APP, "https://attacker.example/callback"),
        (APP, None),
        (OTHER_APP, CALLBACK),  # another app's
        ("profile-service", CALLBACK),
    ],
    ids=["unknown-client", "no-client", "trailing-slash", "attacker", "no-redirect-uri", "other-apps", "service"],
)
def test_an_unknown_client_or_redirect_uri_is_a_400_page_never_a_redirect(
    auth: Any, apps: None, client_id: str | None, redirect_uri: str | None
) -> None:
    response = _authorize(auth, client_id=client_id, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "is not registered" in response.body.decode()
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_repeated_redirect_uri_is_a_400_page(auth: Any, apps: None) -> None:
    query = urllib.parse.urlencode([*_query().items(), ("redirect_uri", CALLBACK)])

    response = auth.http.get("/authorize?" + query)

    assert response.status_code == 400 and "Location" not in response.headers


def test_an_unknown_client_id_with_markup_is_shown_escaped(auth: Any, apps: None) -> None:
    response = _authorize(auth, client_id="<script>alert(1)</script>", redirect_uri="<img src=x onerror=alert(2)>")

    page = response.body.decode()
    assert response.status_code == 400
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _form(response).scripts == 0


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # RFC 7636's default, plain, is not supported
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "location:read"}, "invalid_scope"),  # a service's scope
        ({"scope": "location:write"}, "invalid_scope"),  # a user's, but not one other-app may ask for
        ({"scope": "profile:write  location:write"}, "invalid_request"),
        ({"state": "x" * 1025}, "invalid_request"),
    ],
    ids=[
        "token",
        "no-response-type",
        "no-challenge",
        "no-method",
        "plain",
        "bad-challenge",
        "service-scope",
        "scope-beyond-client",
        "malformed-scope",
        "long-state",
    ],
)
def test_any_other_problem_is_sent_back_to_the_redirect_uri_with_error_state_and_iss(
    auth: Any, apps: None, overrides: dict[str, str | None], error: str
) -> None:
    app = (
        {"client_id": OTHER_APP, "redirect_uri": "https://other.example/cb"}
        if "location:write" in str(overrides)
        else {}
    )

    response = _authorize(auth, **{**app, **overrides})

    assert response.status_code == 302, response.body
    location = urllib.parse.urlsplit(response.headers["Location"])
    params = dict(urllib.parse.parse_qsl(location.query))
    assert params["error"] == error
    assert params["error_description"]
    assert params["iss"] == ISSUER
    assert params.get("state") == (None if "state" in overrides else STATE)  # as it came, URL-encoded
    assert "<script>" not in response.headers["Location"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_repeated_parameter_is_sent_back_as_invalid_request(auth: Any, apps: None) -> None:
    query = urllib.parse.urlencode([*_query().items(), ("code_challenge", "x" * 43)])

    params = _redirected(auth.http.get("/authorize?" + query))

    assert params["error"] == "invalid_request" and "more than once" in params["error_description"]


def test_a_redirect_uri_with_a_query_keeps_it(auth: Any, apps: None) -> None:
    with services.load("auth").environment():
        services.load("auth").module("clients").create_public_client(APP, "profile:write", [CALLBACK + "?app=1"])

    location = _authorize(auth, redirect_uri=CALLBACK + "?app=1", response_type="token").headers["Location"]

    assert location.startswith(CALLBACK + "?app=1&error=unsupported_response_type")


# The form


def test_a_login_on_the_page_redirects_with_a_code_state_and_iss(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))

    response = _post_login(auth, page)

    params = _redirected(response)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == STATE and params["iss"] == ISSUER
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_password_shows_the_page_again_with_the_error_and_no_redirect(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))

    response = _post_login(auth, page, username="<b>Alice</b>", password="not the password")

    assert response.status_code == 200
    assert "Location" not in response.headers
    body = response.body.decode()
    assert "The username or password is wrong." in body
    assert "<b>alice</b>" not in body and "&lt;b&gt;alice&lt;/b&gt;" in body  # typed back, escaped
    assert _form(response).fields["request"] == page.request_id  # the same request: try again
    _redirected(_post_login(auth, page))


def test_failed_logins_on_the_page_count_toward_the_lockout_like_any_other(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))
    for _ in range(5):
        assert "is wrong" in _post_login(auth, page, password="not the password").body.decode()

    locked = _post_login(auth, page)
    by_password_grant = post_form(auth, "/token", {"grant_type": "password", "username": "alice", "password": PASSWORD})

    assert locked.status_code == 429
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Location" not in locked.headers
    assert_oauth_error(by_password_grant, 429, "login_locked")


def test_a_form_without_the_pages_cookie_is_refused(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))
    page.cookie = ""

    response = _post_login(auth, page)

    assert response.status_code == 403 and "Location" not in response.headers


def test_a_form_with_another_browsers_cookie_is_refused(auth: Any, alice: dict[str, Any]) -> None:
    # GIVEN an attacker's own login page, and a victim whose browser was shown another
    attackers = Page(_authorize(auth))
    victims = Page(_authorize(auth))
    attackers.cookie = victims.cookie

    # WHEN the victim's browser posts the attacker's form (the attacker's credentials, say)
    response = _post_login(auth, attackers)

    # THEN it is refused: the form was not made for this browser
    assert response.status_code == 403


def test_a_form_posted_from_another_site_is_refused(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))

    response = _post_login(auth, page, headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 403


@pytest.mark.parametrize("request_id", ["", "x" * 43, "not-an-id"])
def test_a_form_of_an_unknown_request_is_a_400_page(auth: Any, alice: dict[str, Any], request_id: str) -> None:
    page = Page(_authorize(auth))
    page.request_id = request_id

    response = _post_login(auth, page)

    assert response.status_code == 400 and "expired" in response.body.decode()


def test_a_login_page_expires_after_ten_minutes(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))
    clock().advance(600)

    assert _post_login(auth, page).status_code == 400


def test_one_login_page_gives_one_code(auth: Any, alice: dict[str, Any]) -> None:
    page = Page(_authorize(auth))
    _redirected(_post_login(auth, page))

    again = _post_login(auth, page)

    assert again.status_code == 400 and "Location" not in again.headers


# The code grant


def test_a_code_is_exchanged_once_for_tokens_of_that_client_with_the_scope_asked_for(
    auth: Any, alice: dict[str, Any], key_ring: Any
) -> None:
    code = _code(auth, scope="profile:write")

    tokens = json_body(_exchange(auth, code))

    assert tokens["scope"] == "profile:write"
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["typ"] == "at+jwt"
    assert claims["client_id"] == APP and claims["sub"] == alice["user_id"] and claims["scope"] == "profile:write"
    # The refresh token is bound to the app: it refreshes when the app names itself, not otherwise
    refuse = post_form(auth, "/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert_oauth_error(refuse, 400, "invalid_grant")
    refreshed = post_form(
        auth, "/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": APP}
    )
    assert json_body(refreshed)["scope"] == "profile:write"


def test_a_second_use_of_a_code_fails_and_revokes_what_the_first_issued(
    auth: Any, alice: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = _code(auth)
    first = json_body(_exchange(auth, code))
    capsys.readouterr()

    second = _exchange(auth, code)

    assert_oauth_error(second, 400, "invalid_grant")
    assert counted(capsys.readouterr().out, "AuthorizationCodeReuse") == [{"service": "auth", "stage": "local"}]
    revoked = post_form(
        auth, "/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": APP}
    )
    assert_oauth_error(revoked, 400, "invalid_grant")


def test_a_second_use_after_the_codes_minute_is_still_theft(auth: Any, alice: dict[str, Any]) -> None:
    code = _code(auth)
    first = json_body(_exchange(auth, code))
    clock().advance(3600)

    assert_oauth_error(_exchange(auth, code), 400, "invalid_grant")
    revoked = post_form(
        auth, "/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": APP}
    )
    assert "revoked" in assert_oauth_error(revoked, 400, "invalid_grant")["error_description"]


def test_a_code_works_for_59_seconds_and_not_at_60(auth: Any, alice: dict[str, Any]) -> None:
    fresh, stale = _code(auth), _code(auth)
    clock().advance(59)
    assert _exchange(auth, fresh).status_code == 200

    clock().advance(1)

    body = assert_oauth_error(_exchange(auth, stale), 400, "invalid_grant")
    assert "expired" in body["error_description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_verifier": "another-verifier-of-forty-three-characters-or-more"},
        {"client_id": OTHER_APP},
        {"client_id": "unregistered-app"},
        {"redirect_uri": OTHER_CALLBACK},  # registered for the app, but not the one the request named
        {"code": "not-a-code"},
    ],
    ids=["wrong-verifier", "other-client", "unknown-client", "other-redirect-uri", "unknown-code"],
)
def test_a_code_for_another_verifier_client_or_redirect_uri_is_invalid_grant_and_changes_nothing(
    auth: Any, alice: dict[str, Any], overrides: dict[str, str]
) -> None:
    code = _code(auth)

    assert_oauth_error(_exchange(auth, code, **overrides), 400, "invalid_grant")

    assert _exchange(auth, code).status_code == 200  # the right client can still use it, once


def test_a_code_exchange_without_a_client_id_is_invalid_client(auth: Any, alice: dict[str, Any]) -> None:
    code = _code(auth)
    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}

    assert_oauth_error(post_form(auth, "/token", params), 401, "invalid_client")


def test_a_malformed_verifier_is_invalid_request(auth: Any, alice: dict[str, Any]) -> None:
    assert_oauth_error(_exchange(auth, _code(auth), code_verifier="short"), 400, "invalid_request")


def test_the_code_is_stored_only_as_its_hash(auth: Any, alice: dict[str, Any], aws: Any) -> None:
    code = _code(auth)

    items = aws.scan(TableName=services.table_name("auth"))["Items"]

    assert not any(code in str(item) for item in items)
    assert any(item["pk"]["S"].startswith("code#") for item in items)


# The documents


@pytest.fixture
def document(auth: Any) -> Iterator[dict[str, Any]]:
    yield json_body(auth.http.get("/openapi.json"))


def test_the_document_describes_the_page_its_query_and_its_redirects(document: dict[str, Any]) -> None:
    page = document["paths"]["/authorize"]["get"]
    form = document["paths"]["/authorize"]["post"]

    assert page["security"] == [] and form["security"] == []
    parameters = {p["name"]: p for p in page["parameters"]}
    assert {name for name, p in parameters.items() if p["required"]} == {
        "response_type",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
    }
    assert parameters["code_challenge_method"]["schema"] == {"enum": ["S256"]}
    assert "text/html" in page["responses"]["200"]["content"]
    assert page["responses"]["302"]["headers"]["Location"]["required"] is True
    assert "text/html" in page["responses"]["400"]["content"]
    assert set(form["responses"]) >= {"200", "302", "400", "403", "429"}
    assert "application/x-www-form-urlencoded" in form["requestBody"]["content"]
    grants = document["components"]["schemas"]["AuthorizationCodeGrant"]
    assert grants["properties"]["code_verifier"]["pattern"] == "^[A-Za-z0-9._~-]{43,128}$"
