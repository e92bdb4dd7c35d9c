"""``GET /authorize`` and its login form (RFC 6749 section 4.1, RFC 7636, RFC 9207): the policy.

``GET /authorize`` checks the client and its redirect URI first: an unknown client, or a
redirect URI not registered for it exactly, gets a 400 page and never a redirect (RFC 6749
section 4.1.2.1: the user must not be sent to an unchecked address). Every other problem
(the response type, PKCE, the scope, a malformed or repeated parameter) is sent back to the
client at its redirect URI as ``error``, with ``state`` and ``iss``. A good request is
remembered (``store``: its client, redirect URI, scope, PKCE challenge and state, for
``AUTHORIZATION_REQUEST_TTL_S``) under a random id that the login page's form carries.

CSRF: the form is bound to the browser that was shown it. The first page a browser sees
sets a random cookie (``HttpOnly``, ``SameSite=Lax``; on https ``Secure`` and named with the
``__Host-`` prefix, so that no sibling host can set it); each request remembers the cookie's
SHA-256, and ``POST /authorize`` is accepted only with the cookie whose hash its request
holds. A page on another site cannot read our pages, cannot set or send that cookie with a
cross-site post (``Lax``), and so cannot post a form of its own making (login CSRF). Posts
that browsers mark as coming from another site (``Sec-Fetch-Site``) are refused besides.

A failed login on the page is a failed login like any other (``tokens.authenticate_user``:
counted per username and address, locked out with 429); the page is shown again with the
error, never a redirect. A successful one uses the request up and redirects with a code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import urllib.parse

import msgspec
from chalice import Response
from chalice.app import Request

from servicekit.clock import clock

from . import clients, codes, login_page, tokens
from .errors import (
    InvalidCredentialsError,
    InvalidRequestError,
    LoginLockedError,
    OAuthError,
    RequestTooLargeError,
    UnsupportedResponseTypeError,
)
from .models import MAX_STATE, AuthorizationRequest, LoginForm
from .settings import AUTHORIZATION_REQUEST_TTL_S, issuer
from .store import AuthorizationRequestGoneError, AuthorizationRequestItem, auth_store, authorization_request_key
from .token_requests import caller_address, form_params, given

RANDOM = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): a request id, a browser's cookie
CROSS_SITE = frozenset({"cross-site", "same-site"})  # Sec-Fetch-Site values of a post from elsewhere
NOT_REGISTERED = "is not registered"  # the 400 pages' words for a client or redirect URI we do not know
EXPIRED = "This login page has expired or was used already. Go back to the app and log in again."


def start(request: Request) -> Response:
    """``GET /authorize``: the login page, a 400 page, or an error sent back to the client."""
    params = _query(request)
    client_id, redirect_uri = _single(params, "client_id"), _single(params, "redirect_uri")
    client = clients.public_client(client_id) if client_id and clients.CLIENT_ID_PATTERN.fullmatch(client_id) else None
    if client is None:
        return login_page.problem(
            400,
            "Unknown application",
            f"The application {client_id or '(missing or repeated)'!r} {NOT_REGISTERED} here.",
        )
    if redirect_uri is None or redirect_uri not in client.get("redirect_uris", []):
        return login_page.problem(
            400,
            "Unknown redirect address",
            f"The redirect address {redirect_uri or '(missing or repeated)'!r} {NOT_REGISTERED} for {client_id!r}.",
        )
    state = _single(params, "state")
    if state is not None and len(state) > MAX_STATE:
        state = None  # not given back: the error says it is too long
    try:
        asked = _authorization_request(params)
        scope = tokens.granted_scope(given(asked.scope), client["scope"])
    except OAuthError as error:
        return redirect(redirect_uri, error=error.ERROR, error_description=error.description, state=state)
    request_id, browser = secrets.token_urlsafe(32), _browser(request) or secrets.token_urlsafe(32)
    item: AuthorizationRequestItem = {
        "pk": authorization_request_key(request_id)["pk"],
        "client_id": asked.client_id,
        "redirect_uri": asked.redirect_uri,
        "scope": scope,
        "code_challenge": asked.code_challenge,
        "browser": _hash(browser),
        "expires_at": clock().now() + AUTHORIZATION_REQUEST_TTL_S,
    }
    if state is not None:
        item["state"] = state
    auth_store().put_authorization_request(item)
    return _page(request_id, item, extra_headers={"Set-Cookie": _cookie(browser)})


def log_in(request: Request) -> Response:
    """``POST /authorize``: the login form; a redirect with a code, or a page that says why not."""
    try:
        params = form_params(request)
    except RequestTooLargeError:
        return login_page.problem(413, "Too large", "The form is too large.")
    except InvalidRequestError as error:
        return login_page.problem(400, "Not a login form", error.description)
    request_id = params.get("request", "")
    item = auth_store().authorization_request(request_id) if RANDOM.fullmatch(request_id) else None
    if item is None or item["expires_at"] <= clock().now():
        return login_page.problem(400, "Login page expired", EXPIRED)
    browser = _browser(request)
    fetch_site = (request.headers.get("sec-fetch-site") or "").lower()
    if browser is None or not hmac.compare_digest(_hash(browser), item["browser"]) or fetch_site in CROSS_SITE:
        return login_page.problem(
            403, "Login refused", "This form did not come from the login page this browser was shown. " + EXPIRED
        )
    try:
        form = msgspec.convert(params, type=LoginForm)
    except msgspec.ValidationError:
        return _page(request_id, item, error="Type your username and password.")
    try:
        user = tokens.authenticate_user(form.username, form.password, caller_address(request))
    except InvalidCredentialsError as wrong:
        return _page(request_id, item, error=wrong.description, username=form.username)
    except LoginLockedError as locked:
        return login_page.problem(
            429, "Too many attempts", locked.description, extra_headers={"Retry-After": str(locked.retry_after)}
        )
    try:
        code = codes.issue(request_id, item, user["user_id"])
    except AuthorizationRequestGoneError:
        return login_page.problem(400, "Login page expired", EXPIRED)
    return redirect(item["redirect_uri"], code=code, state=item.get("state"))


def redirect(redirect_uri: str, **params: str | None) -> Response:
    """302 to the client's registered ``redirect_uri``, its query kept, with ``params`` and ``iss`` (RFC 9207)."""
    added = urllib.parse.urlencode({**{k: v for k, v in params.items() if v is not None}, "iss": issuer()})
    separator = "" if redirect_uri.endswith(("?", "&")) else ("&" if "?" in redirect_uri else "?")
    headers: dict[str, str | list[str]] = {
        "Location": redirect_uri + separator + added,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return Response(body="", status_code=302, headers=headers)


def cookie_name() -> str:
    """The browser's CSRF cookie: ``__Host-`` prefixed where the service is served over https."""
    return "__Host-authorize" if issuer().startswith("https://") else "authorize"


def _page(
    request_id: str,
    item: AuthorizationRequestItem,
    *,
    error: str | None = None,
    username: str = "",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The login page of the request ``request_id`` (``item``), again with ``error`` after a failed login."""
    return login_page.login(
        client_id=item["client_id"],
        scope=item["scope"],
        request_id=request_id,
        form_target=clients.origin(item["redirect_uri"]),
        error=error,
        username=username,
        extra_headers=extra_headers,
    )


def _query(request: Request) -> dict[str, list[str]]:
    query = request.query_params
    return {name: query.getlist(name) for name in query} if query is not None else {}


def _single(params: dict[str, list[str]], name: str) -> str | None:
    """A parameter given exactly once with a value; None otherwise (RFC 6749 section 3.1: never twice)."""
    values = params.get(name, [])
    return values[0] if len(values) == 1 and values[0] else None


def _authorization_request(params: dict[str, list[str]]) -> AuthorizationRequest:
    """The checked request (``OAuthError``: what to send back to the client)."""
    repeated = sorted(name for name, values in params.items() if len(values) > 1)
    if repeated:
        raise InvalidRequestError(f"The parameter {repeated[0][:40]!r} is given more than once.")
    values = {name: values[0] for name, values in params.items() if values[0]}
    if "response_type" in values and values["response_type"] != "code":
        raise UnsupportedResponseTypeError("Only the response type 'code' is supported (with PKCE S256).")
    if "code_challenge" not in values:
        raise InvalidRequestError("PKCE is required: a code_challenge with code_challenge_method=S256.")
    if values.get("code_challenge_method", "S256") != "S256":
        raise InvalidRequestError("Only the code_challenge_method S256 is supported.")
    try:
        return msgspec.convert(values, type=AuthorizationRequest)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid request: {exc}") from None


def _browser(request: Request) -> str | None:
    """This browser's CSRF cookie, if it sent one that we could have made."""
    import http.cookies  # the login page's routes only: not at every route's cold start

    jar = http.cookies.SimpleCookie()
    try:
        jar.load(request.headers.get("cookie") or "")
    except http.cookies.CookieError:
        return None
    morsel = jar.get(cookie_name())
    return morsel.value if morsel is not None and RANDOM.fullmatch(morsel.value) else None


def _cookie(value: str) -> str:
    """The ``Set-Cookie`` value that hands the browser its CSRF cookie (for the browser's session)."""
    import http.cookies

    jar = http.cookies.SimpleCookie()
    name = cookie_name()
    jar[name] = value
    morsel = jar[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if name.startswith("__Host-"):
        morsel["secure"] = True
    return morsel.OutputString()


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
